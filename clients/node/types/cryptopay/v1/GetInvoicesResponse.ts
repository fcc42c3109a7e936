// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Invoice as _cryptopay_v1_Invoice, Invoice__Output as _cryptopay_v1_Invoice__Output } from '../../cryptopay/v1/Invoice';

export interface GetInvoicesResponse {
  'items'?: (_cryptopay_v1_Invoice)[];
}

export interface GetInvoicesResponse__Output {
  'items': (_cryptopay_v1_Invoice__Output)[];
}
