// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Check as _cryptopay_v1_Check, Check__Output as _cryptopay_v1_Check__Output } from '../../cryptopay/v1/Check';

export interface CreateCheckResponse {
  'check'?: (_cryptopay_v1_Check | null);
}

export interface CreateCheckResponse__Output {
  'check': (_cryptopay_v1_Check__Output | null);
}
