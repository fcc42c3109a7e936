// Original file: proto/cryptopay/v1/types.proto

import type { TransferStatus as _cryptopay_v1_TransferStatus, TransferStatus__Output as _cryptopay_v1_TransferStatus__Output } from '../../cryptopay/v1/TransferStatus';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';
import type { Long } from '@grpc/proto-loader';

export interface Transfer {
  'transfer_id'?: (number | string | Long);
  'spend_id'?: (string);
  'user_id'?: (number | string | Long);
  'asset'?: (string);
  'amount'?: (string);
  'status'?: (_cryptopay_v1_TransferStatus);
  'completed_at'?: (_google_protobuf_Timestamp | null);
  'comment'?: (string);
  'unknown_fields'?: (_google_protobuf_Struct | null);
}

export interface Transfer__Output {
  'transfer_id': (string);
  'spend_id': (string);
  'user_id': (string);
  'asset': (string);
  'amount': (string);
  'status': (_cryptopay_v1_TransferStatus__Output);
  'completed_at': (_google_protobuf_Timestamp__Output | null);
  'comment': (string);
  'unknown_fields': (_google_protobuf_Struct__Output | null);
}
