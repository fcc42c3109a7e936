// Original file: proto/cryptopay/v1/webhook_service.proto

import type { WebhookEvent as _cryptopay_v1_WebhookEvent, WebhookEvent__Output as _cryptopay_v1_WebhookEvent__Output } from '../../cryptopay/v1/WebhookEvent';

export interface SubscribeResponse {
  'event'?: (_cryptopay_v1_WebhookEvent | null);
}

export interface SubscribeResponse__Output {
  'event': (_cryptopay_v1_WebhookEvent__Output | null);
}
