// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { ExchangeRate as _cryptopay_v1_ExchangeRate, ExchangeRate__Output as _cryptopay_v1_ExchangeRate__Output } from '../../cryptopay/v1/ExchangeRate';

export interface GetExchangeRatesResponse {
  'items'?: (_cryptopay_v1_ExchangeRate)[];
}

export interface GetExchangeRatesResponse__Output {
  'items': (_cryptopay_v1_ExchangeRate__Output)[];
}
