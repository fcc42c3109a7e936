// Original file: proto/cryptopay/v1/types.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';
import type { Long } from '@grpc/proto-loader';

export interface App {
  'app_id'?: (number | string | Long);
  'name'?: (string);
  'payment_processing_bot_username'?: (string);
  'unknown_fields'?: (_google_protobuf_Struct | null);
}

export interface App__Output {
  'app_id': (string);
  'name': (string);
  'payment_processing_bot_username': (string);
  'unknown_fields': (_google_protobuf_Struct__Output | null);
}
