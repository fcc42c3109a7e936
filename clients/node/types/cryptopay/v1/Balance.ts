// Original file: proto/cryptopay/v1/types.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';

export interface Balance {
  'currency_code'?: (string);
  'available'?: (string);
  'onhold'?: (string);
  'unknown_fields'?: (_google_protobuf_Struct | null);
}

export interface Balance__Output {
  'currency_code': (string);
  'available': (string);
  'onhold': (string);
  'unknown_fields': (_google_protobuf_Struct__Output | null);
}
