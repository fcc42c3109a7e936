// Original file: proto/cryptopay/v1/types.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';
import type { Long } from '@grpc/proto-loader';

export interface AppStats {
  'volume'?: (string);
  'conversion'?: (string);
  'unique_users_count'?: (number | string | Long);
  'created_invoice_count'?: (number | string | Long);
  'paid_invoice_count'?: (number | string | Long);
  'start_at'?: (_google_protobuf_Timestamp | null);
  'end_at'?: (_google_protobuf_Timestamp | null);
  'unknown_fields'?: (_google_protobuf_Struct | null);
}

export interface AppStats__Output {
  'volume': (string);
  'conversion': (string);
  'unique_users_count': (string);
  'created_invoice_count': (string);
  'paid_invoice_count': (string);
  'start_at': (_google_protobuf_Timestamp__Output | null);
  'end_at': (_google_protobuf_Timestamp__Output | null);
  'unknown_fields': (_google_protobuf_Struct__Output | null);
}
