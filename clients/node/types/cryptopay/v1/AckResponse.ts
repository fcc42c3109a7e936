// Original file: proto/cryptopay/v1/webhook_service.proto


export interface AckResponse {
  'acknowledged'?: (number);
}

export interface AckResponse__Output {
  'acknowledged': (number);
}
