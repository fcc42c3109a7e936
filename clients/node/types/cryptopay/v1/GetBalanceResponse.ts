// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Balance as _cryptopay_v1_Balance, Balance__Output as _cryptopay_v1_Balance__Output } from '../../cryptopay/v1/Balance';

export interface GetBalanceResponse {
  'items'?: (_cryptopay_v1_Balance)[];
}

export interface GetBalanceResponse__Output {
  'items': (_cryptopay_v1_Balance__Output)[];
}
