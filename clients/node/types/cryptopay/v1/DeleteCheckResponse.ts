// Original file: proto/cryptopay/v1/cryptopay_service.proto


export interface DeleteCheckResponse {
  'deleted'?: (boolean);
}

export interface DeleteCheckResponse__Output {
  'deleted': (boolean);
}
