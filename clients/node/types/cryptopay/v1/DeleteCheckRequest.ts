// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Long } from '@grpc/proto-loader';

export interface DeleteCheckRequest {
  'check_id'?: (number | string | Long);
}

export interface DeleteCheckRequest__Output {
  'check_id': (string);
}
