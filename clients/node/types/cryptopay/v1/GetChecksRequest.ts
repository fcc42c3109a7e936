// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { CheckStatus as _cryptopay_v1_CheckStatus, CheckStatus__Output as _cryptopay_v1_CheckStatus__Output } from '../../cryptopay/v1/CheckStatus';
import type { Long } from '@grpc/proto-loader';

export interface GetChecksRequest {
  'asset'?: (string);
  'check_ids'?: (number | string | Long)[];
  'status'?: (_cryptopay_v1_CheckStatus);
  'offset'?: (number);
  'count'?: (number);
}

export interface GetChecksRequest__Output {
  'asset': (string);
  'check_ids': (string)[];
  'status': (_cryptopay_v1_CheckStatus__Output);
  'offset': (number);
  'count': (number);
}
