// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type { Long } from '@grpc/proto-loader';

export interface TransferRequest {
  'user_id'?: (number | string | Long);
  'asset'?: (string);
  'amount'?: (string);
  'spend_id'?: (string);
  'comment'?: (string);
  'disable_send_notification'?: (boolean);
  '_disable_send_notification'?: "disable_send_notification";
}

export interface TransferRequest__Output {
  'user_id': (string);
  'asset': (string);
  'amount': (string);
  'spend_id': (string);
  'comment': (string);
  'disable_send_notification'?: (boolean);
  '_disable_send_notification'?: "disable_send_notification";
}
