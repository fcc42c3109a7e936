// Original file: proto/cryptopay/v1/cryptopay_service.proto


export interface DeleteInvoiceResponse {
  'deleted'?: (boolean);
}

export interface DeleteInvoiceResponse__Output {
  'deleted': (boolean);
}
