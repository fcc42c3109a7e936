// Original file: proto/cryptopay/v1/webhook_service.proto

export const StartPosition = {
  START_POSITION_UNSPECIFIED: 'START_POSITION_UNSPECIFIED',
  START_POSITION_LATEST: 'START_POSITION_LATEST',
  START_POSITION_EARLIEST: 'START_POSITION_EARLIEST',
} as const;

export type StartPosition =
  | 'START_POSITION_UNSPECIFIED'
  | 0
  | 'START_POSITION_LATEST'
  | 1
  | 'START_POSITION_EARLIEST'
  | 2

export type StartPosition__Output = typeof StartPosition[keyof typeof StartPosition]
