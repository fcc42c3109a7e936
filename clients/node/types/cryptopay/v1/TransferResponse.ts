// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Transfer as _cryptopay_v1_Transfer, Transfer__Output as _cryptopay_v1_Transfer__Output } from '../../cryptopay/v1/Transfer';

export interface TransferResponse {
  'transfer'?: (_cryptopay_v1_Transfer | null);
}

export interface TransferResponse__Output {
  'transfer': (_cryptopay_v1_Transfer__Output | null);
}
