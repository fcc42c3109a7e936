// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Long } from '@grpc/proto-loader';

export interface DeleteInvoiceRequest {
  'invoice_id'?: (number | string | Long);
}

export interface DeleteInvoiceRequest__Output {
  'invoice_id': (string);
}
