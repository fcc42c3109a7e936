// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface GetStatsRequest {
  'start_at'?: (_google_protobuf_Timestamp | null);
  'end_at'?: (_google_protobuf_Timestamp | null);
}

export interface GetStatsRequest__Output {
  'start_at': (_google_protobuf_Timestamp__Output | null);
  'end_at': (_google_protobuf_Timestamp__Output | null);
}
