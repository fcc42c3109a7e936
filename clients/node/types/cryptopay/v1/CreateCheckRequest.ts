// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Long } from '@grpc/proto-loader';

export interface CreateCheckRequest {
  'asset'?: (string);
  'amount'?: (string);
  'pin_to_user_id'?: (number | string | Long);
  'pin_to_username'?: (string);
}

export interface CreateCheckRequest__Output {
  'asset': (string);
  'amount': (string);
  'pin_to_user_id': (string);
  'pin_to_username': (string);
}
