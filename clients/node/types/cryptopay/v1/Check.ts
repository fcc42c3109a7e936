// Original file: proto/cryptopay/v1/types.proto

import type { CheckStatus as _cryptopay_v1_CheckStatus, CheckStatus__Output as _cryptopay_v1_CheckStatus__Output } from '../../cryptopay/v1/CheckStatus';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';
import type { Long } from '@grpc/proto-loader';

export interface Check {
  'check_id'?: (number | string | Long);
  'hash'?: (string);
  'asset'?: (string);
  'amount'?: (string);
  'bot_check_url'?: (string);
  'status'?: (_cryptopay_v1_CheckStatus);
  'created_at'?: (_google_protobuf_Timestamp | null);
  'activated_at'?: (_google_protobuf_Timestamp | null);
  'unknown_fields'?: (_google_protobuf_Struct | null);
}

export interface Check__Output {
  'check_id': (string);
  'hash': (string);
  'asset': (string);
  'amount': (string);
  'bot_check_url': (string);
  'status': (_cryptopay_v1_CheckStatus__Output);
  'created_at': (_google_protobuf_Timestamp__Output | null);
  'activated_at': (_google_protobuf_Timestamp__Output | null);
  'unknown_fields': (_google_protobuf_Struct__Output | null);
}
