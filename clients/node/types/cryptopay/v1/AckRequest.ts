// Original file: proto/cryptopay/v1/webhook_service.proto


export interface AckRequest {
  'group'?: (string);
  'event_ids'?: (string)[];
}

export interface AckRequest__Output {
  'group': (string);
  'event_ids': (string)[];
}
