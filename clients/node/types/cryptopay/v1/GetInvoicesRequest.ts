// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { InvoiceStatus as _cryptopay_v1_InvoiceStatus, InvoiceStatus__Output as _cryptopay_v1_InvoiceStatus__Output } from '../../cryptopay/v1/InvoiceStatus';
import type { Long } from '@grpc/proto-loader';

export interface GetInvoicesRequest {
  'asset'?: (string);
  'fiat'?: (string);
  'invoice_ids'?: (number | string | Long)[];
  'status'?: (_cryptopay_v1_InvoiceStatus);
  'offset'?: (number);
  'count'?: (number);
}

export interface GetInvoicesRequest__Output {
  'asset': (string);
  'fiat': (string);
  'invoice_ids': (string)[];
  'status': (_cryptopay_v1_InvoiceStatus__Output);
  'offset': (number);
  'count': (number);
}
