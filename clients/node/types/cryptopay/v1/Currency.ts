// Original file: proto/cryptopay/v1/types.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';

export interface Currency {
  'is_blockchain'?: (boolean);
  'is_stablecoin'?: (boolean);
  'is_fiat'?: (boolean);
  'name'?: (string);
  'code'?: (string);
  'url'?: (string);
  'decimals'?: (number);
  'unknown_fields'?: (_google_protobuf_Struct | null);
}

export interface Currency__Output {
  'is_blockchain': (boolean);
  'is_stablecoin': (boolean);
  'is_fiat': (boolean);
  'name': (string);
  'code': (string);
  'url': (string);
  'decimals': (number);
  'unknown_fields': (_google_protobuf_Struct__Output | null);
}
