// Original file: proto/cryptopay/v1/types.proto

export const InvoiceStatus = {
  INVOICE_STATUS_UNSPECIFIED: 'INVOICE_STATUS_UNSPECIFIED',
  INVOICE_STATUS_ACTIVE: 'INVOICE_STATUS_ACTIVE',
  INVOICE_STATUS_PAID: 'INVOICE_STATUS_PAID',
  INVOICE_STATUS_EXPIRED: 'INVOICE_STATUS_EXPIRED',
} as const;

export type InvoiceStatus =
  | 'INVOICE_STATUS_UNSPECIFIED'
  | 0
  | 'INVOICE_STATUS_ACTIVE'
  | 1
  | 'INVOICE_STATUS_PAID'
  | 2
  | 'INVOICE_STATUS_EXPIRED'
  | 3

export type InvoiceStatus__Output = typeof InvoiceStatus[keyof typeof InvoiceStatus]
