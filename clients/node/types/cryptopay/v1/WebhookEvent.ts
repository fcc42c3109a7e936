// Original file: proto/cryptopay/v1/webhook_service.proto

import type { Invoice as _cryptopay_v1_Invoice, Invoice__Output as _cryptopay_v1_Invoice__Output } from '../../cryptopay/v1/Invoice';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Long } from '@grpc/proto-loader';

export interface WebhookEvent {
  'event_id'?: (string);
  'update_type'?: (string);
  'update_id'?: (number | string | Long);
  'invoice'?: (_cryptopay_v1_Invoice | null);
  'raw_body'?: (Buffer | Uint8Array | string);
  'signature'?: (string);
  'received_at'?: (_google_protobuf_Timestamp | null);
  'request_date'?: (_google_protobuf_Timestamp | null);
  'synthetic'?: (boolean);
  'delivery_attempt'?: (number);
  'untyped_fields'?: (string)[];
}

export interface WebhookEvent__Output {
  'event_id': (string);
  'update_type': (string);
  'update_id': (string);
  'invoice': (_cryptopay_v1_Invoice__Output | null);
  'raw_body': (Buffer);
  'signature': (string);
  'received_at': (_google_protobuf_Timestamp__Output | null);
  'request_date': (_google_protobuf_Timestamp__Output | null);
  'synthetic': (boolean);
  'delivery_attempt': (number);
  'untyped_fields': (string)[];
}
