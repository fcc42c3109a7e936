// Original file: proto/cryptopay/v1/types.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';

export interface ExchangeRate {
  'is_valid'?: (boolean);
  'is_crypto'?: (boolean);
  'is_fiat'?: (boolean);
  'source'?: (string);
  'target'?: (string);
  'rate'?: (string);
  'unknown_fields'?: (_google_protobuf_Struct | null);
}

export interface ExchangeRate__Output {
  'is_valid': (boolean);
  'is_crypto': (boolean);
  'is_fiat': (boolean);
  'source': (string);
  'target': (string);
  'rate': (string);
  'unknown_fields': (_google_protobuf_Struct__Output | null);
}
