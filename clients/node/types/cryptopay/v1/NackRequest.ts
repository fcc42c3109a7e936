// Original file: proto/cryptopay/v1/webhook_service.proto


export interface NackRequest {
  'group'?: (string);
  'event_ids'?: (string)[];
}

export interface NackRequest__Output {
  'group': (string);
  'event_ids': (string)[];
}
