// Original file: proto/cryptopay/v1/types.proto

export const CurrencyType = {
  CURRENCY_TYPE_UNSPECIFIED: 'CURRENCY_TYPE_UNSPECIFIED',
  CURRENCY_TYPE_CRYPTO: 'CURRENCY_TYPE_CRYPTO',
  CURRENCY_TYPE_FIAT: 'CURRENCY_TYPE_FIAT',
} as const;

export type CurrencyType =
  | 'CURRENCY_TYPE_UNSPECIFIED'
  | 0
  | 'CURRENCY_TYPE_CRYPTO'
  | 1
  | 'CURRENCY_TYPE_FIAT'
  | 2

export type CurrencyType__Output = typeof CurrencyType[keyof typeof CurrencyType]
