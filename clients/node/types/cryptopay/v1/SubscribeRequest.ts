// Original file: proto/cryptopay/v1/webhook_service.proto

import type { StartPosition as _cryptopay_v1_StartPosition, StartPosition__Output as _cryptopay_v1_StartPosition__Output } from '../../cryptopay/v1/StartPosition';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../google/protobuf/Duration';

export interface SubscribeRequest {
  'start'?: (_cryptopay_v1_StartPosition);
  'after_event_id'?: (string);
  'group'?: (string);
  'consumer'?: (string);
  'update_types'?: (string)[];
  'assets'?: (string)[];
  'max_in_flight'?: (number);
  'visibility_timeout'?: (_google_protobuf_Duration | null);
}

export interface SubscribeRequest__Output {
  'start': (_cryptopay_v1_StartPosition__Output);
  'after_event_id': (string);
  'group': (string);
  'consumer': (string);
  'update_types': (string)[];
  'assets': (string)[];
  'max_in_flight': (number);
  'visibility_timeout': (_google_protobuf_Duration__Output | null);
}
