// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Long } from '@grpc/proto-loader';

export interface GetTransfersRequest {
  'asset'?: (string);
  'transfer_ids'?: (number | string | Long)[];
  'spend_id'?: (string);
  'offset'?: (number);
  'count'?: (number);
}

export interface GetTransfersRequest__Output {
  'asset': (string);
  'transfer_ids': (string)[];
  'spend_id': (string);
  'offset': (number);
  'count': (number);
}
