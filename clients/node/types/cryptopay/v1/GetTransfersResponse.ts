// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Transfer as _cryptopay_v1_Transfer, Transfer__Output as _cryptopay_v1_Transfer__Output } from '../../cryptopay/v1/Transfer';

export interface GetTransfersResponse {
  'items'?: (_cryptopay_v1_Transfer)[];
}

export interface GetTransfersResponse__Output {
  'items': (_cryptopay_v1_Transfer__Output)[];
}
