// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { App as _cryptopay_v1_App, App__Output as _cryptopay_v1_App__Output } from '../../cryptopay/v1/App';

export interface GetMeResponse {
  'app'?: (_cryptopay_v1_App | null);
}

export interface GetMeResponse__Output {
  'app': (_cryptopay_v1_App__Output | null);
}
