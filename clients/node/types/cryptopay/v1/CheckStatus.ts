// Original file: proto/cryptopay/v1/types.proto

export const CheckStatus = {
  CHECK_STATUS_UNSPECIFIED: 'CHECK_STATUS_UNSPECIFIED',
  CHECK_STATUS_ACTIVE: 'CHECK_STATUS_ACTIVE',
  CHECK_STATUS_ACTIVATED: 'CHECK_STATUS_ACTIVATED',
} as const;

export type CheckStatus =
  | 'CHECK_STATUS_UNSPECIFIED'
  | 0
  | 'CHECK_STATUS_ACTIVE'
  | 1
  | 'CHECK_STATUS_ACTIVATED'
  | 2

export type CheckStatus__Output = typeof CheckStatus[keyof typeof CheckStatus]
