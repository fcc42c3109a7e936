// Original file: proto/cryptopay/v1/types.proto

export const TransferStatus = {
  TRANSFER_STATUS_UNSPECIFIED: 'TRANSFER_STATUS_UNSPECIFIED',
  TRANSFER_STATUS_COMPLETED: 'TRANSFER_STATUS_COMPLETED',
} as const;

export type TransferStatus =
  | 'TRANSFER_STATUS_UNSPECIFIED'
  | 0
  | 'TRANSFER_STATUS_COMPLETED'
  | 1

export type TransferStatus__Output = typeof TransferStatus[keyof typeof TransferStatus]
