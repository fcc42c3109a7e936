// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Currency as _cryptopay_v1_Currency, Currency__Output as _cryptopay_v1_Currency__Output } from '../../cryptopay/v1/Currency';

export interface GetCurrenciesResponse {
  'items'?: (_cryptopay_v1_Currency)[];
}

export interface GetCurrenciesResponse__Output {
  'items': (_cryptopay_v1_Currency__Output)[];
}
