// Original file: proto/cryptopay/v1/webhook_service.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AckRequest as _cryptopay_v1_AckRequest, AckRequest__Output as _cryptopay_v1_AckRequest__Output } from '../../cryptopay/v1/AckRequest';
import type { AckResponse as _cryptopay_v1_AckResponse, AckResponse__Output as _cryptopay_v1_AckResponse__Output } from '../../cryptopay/v1/AckResponse';
import type { NackRequest as _cryptopay_v1_NackRequest, NackRequest__Output as _cryptopay_v1_NackRequest__Output } from '../../cryptopay/v1/NackRequest';
import type { NackResponse as _cryptopay_v1_NackResponse, NackResponse__Output as _cryptopay_v1_NackResponse__Output } from '../../cryptopay/v1/NackResponse';
import type { SubscribeRequest as _cryptopay_v1_SubscribeRequest, SubscribeRequest__Output as _cryptopay_v1_SubscribeRequest__Output } from '../../cryptopay/v1/SubscribeRequest';
import type { SubscribeResponse as _cryptopay_v1_SubscribeResponse, SubscribeResponse__Output as _cryptopay_v1_SubscribeResponse__Output } from '../../cryptopay/v1/SubscribeResponse';

export interface WebhookServiceClient extends grpc.Client {
  Ack(argument: _cryptopay_v1_AckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  Ack(argument: _cryptopay_v1_AckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  Ack(argument: _cryptopay_v1_AckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  Ack(argument: _cryptopay_v1_AckRequest, callback: grpc.requestCallback<_cryptopay_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _cryptopay_v1_AckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _cryptopay_v1_AckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _cryptopay_v1_AckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _cryptopay_v1_AckRequest, callback: grpc.requestCallback<_cryptopay_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  
  Nack(argument: _cryptopay_v1_NackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_NackResponse__Output>): grpc.ClientUnaryCall;
  Nack(argument: _cryptopay_v1_NackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_NackResponse__Output>): grpc.ClientUnaryCall;
  Nack(argument: _cryptopay_v1_NackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_NackResponse__Output>): grpc.ClientUnaryCall;
  Nack(argument: _cryptopay_v1_NackRequest, callback: grpc.requestCallback<_cryptopay_v1_NackResponse__Output>): grpc.ClientUnaryCall;
  nack(argument: _cryptopay_v1_NackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_NackResponse__Output>): grpc.ClientUnaryCall;
  nack(argument: _cryptopay_v1_NackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_NackResponse__Output>): grpc.ClientUnaryCall;
  nack(argument: _cryptopay_v1_NackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_NackResponse__Output>): grpc.ClientUnaryCall;
  nack(argument: _cryptopay_v1_NackRequest, callback: grpc.requestCallback<_cryptopay_v1_NackResponse__Output>): grpc.ClientUnaryCall;
  
  Subscribe(argument: _cryptopay_v1_SubscribeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_cryptopay_v1_SubscribeResponse__Output>;
  Subscribe(argument: _cryptopay_v1_SubscribeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_cryptopay_v1_SubscribeResponse__Output>;
  subscribe(argument: _cryptopay_v1_SubscribeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_cryptopay_v1_SubscribeResponse__Output>;
  subscribe(argument: _cryptopay_v1_SubscribeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_cryptopay_v1_SubscribeResponse__Output>;
  
}

export interface WebhookServiceHandlers extends grpc.UntypedServiceImplementation {
  Ack: grpc.handleUnaryCall<_cryptopay_v1_AckRequest__Output, _cryptopay_v1_AckResponse>;
  
  Nack: grpc.handleUnaryCall<_cryptopay_v1_NackRequest__Output, _cryptopay_v1_NackResponse>;
  
  Subscribe: grpc.handleServerStreamingCall<_cryptopay_v1_SubscribeRequest__Output, _cryptopay_v1_SubscribeResponse>;
  
}

export interface WebhookServiceDefinition extends grpc.ServiceDefinition {
  Ack: MethodDefinition<_cryptopay_v1_AckRequest, _cryptopay_v1_AckResponse, _cryptopay_v1_AckRequest__Output, _cryptopay_v1_AckResponse__Output>
  Nack: MethodDefinition<_cryptopay_v1_NackRequest, _cryptopay_v1_NackResponse, _cryptopay_v1_NackRequest__Output, _cryptopay_v1_NackResponse__Output>
  Subscribe: MethodDefinition<_cryptopay_v1_SubscribeRequest, _cryptopay_v1_SubscribeResponse, _cryptopay_v1_SubscribeRequest__Output, _cryptopay_v1_SubscribeResponse__Output>
}
