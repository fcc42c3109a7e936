// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Invoice as _cryptopay_v1_Invoice, Invoice__Output as _cryptopay_v1_Invoice__Output } from '../../cryptopay/v1/Invoice';

export interface CreateInvoiceResponse {
  'invoice'?: (_cryptopay_v1_Invoice | null);
}

export interface CreateInvoiceResponse__Output {
  'invoice': (_cryptopay_v1_Invoice__Output | null);
}
