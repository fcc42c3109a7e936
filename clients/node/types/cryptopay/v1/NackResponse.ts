// Original file: proto/cryptopay/v1/webhook_service.proto


export interface NackResponse {
  'released'?: (number);
}

export interface NackResponse__Output {
  'released': (number);
}
