import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AckRequest as _cryptopay_v1_AckRequest, AckRequest__Output as _cryptopay_v1_AckRequest__Output } from './cryptopay/v1/AckRequest';
import type { AckResponse as _cryptopay_v1_AckResponse, AckResponse__Output as _cryptopay_v1_AckResponse__Output } from './cryptopay/v1/AckResponse';
import type { App as _cryptopay_v1_App, App__Output as _cryptopay_v1_App__Output } from './cryptopay/v1/App';
import type { AppStats as _cryptopay_v1_AppStats, AppStats__Output as _cryptopay_v1_AppStats__Output } from './cryptopay/v1/AppStats';
import type { Balance as _cryptopay_v1_Balance, Balance__Output as _cryptopay_v1_Balance__Output } from './cryptopay/v1/Balance';
import type { Check as _cryptopay_v1_Check, Check__Output as _cryptopay_v1_Check__Output } from './cryptopay/v1/Check';
import type { Currency as _cryptopay_v1_Currency, Currency__Output as _cryptopay_v1_Currency__Output } from './cryptopay/v1/Currency';
import type { ExchangeRate as _cryptopay_v1_ExchangeRate, ExchangeRate__Output as _cryptopay_v1_ExchangeRate__Output } from './cryptopay/v1/ExchangeRate';
import type { Invoice as _cryptopay_v1_Invoice, Invoice__Output as _cryptopay_v1_Invoice__Output } from './cryptopay/v1/Invoice';
import type { NackRequest as _cryptopay_v1_NackRequest, NackRequest__Output as _cryptopay_v1_NackRequest__Output } from './cryptopay/v1/NackRequest';
import type { NackResponse as _cryptopay_v1_NackResponse, NackResponse__Output as _cryptopay_v1_NackResponse__Output } from './cryptopay/v1/NackResponse';
import type { SubscribeRequest as _cryptopay_v1_SubscribeRequest, SubscribeRequest__Output as _cryptopay_v1_SubscribeRequest__Output } from './cryptopay/v1/SubscribeRequest';
import type { SubscribeResponse as _cryptopay_v1_SubscribeResponse, SubscribeResponse__Output as _cryptopay_v1_SubscribeResponse__Output } from './cryptopay/v1/SubscribeResponse';
import type { Transfer as _cryptopay_v1_Transfer, Transfer__Output as _cryptopay_v1_Transfer__Output } from './cryptopay/v1/Transfer';
import type { WebhookEvent as _cryptopay_v1_WebhookEvent, WebhookEvent__Output as _cryptopay_v1_WebhookEvent__Output } from './cryptopay/v1/WebhookEvent';
import type { WebhookServiceClient as _cryptopay_v1_WebhookServiceClient, WebhookServiceDefinition as _cryptopay_v1_WebhookServiceDefinition } from './cryptopay/v1/WebhookService';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from './google/protobuf/Duration';
import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  cryptopay: {
    v1: {
      AckRequest: MessageTypeDefinition<_cryptopay_v1_AckRequest, _cryptopay_v1_AckRequest__Output>
      AckResponse: MessageTypeDefinition<_cryptopay_v1_AckResponse, _cryptopay_v1_AckResponse__Output>
      App: MessageTypeDefinition<_cryptopay_v1_App, _cryptopay_v1_App__Output>
      AppStats: MessageTypeDefinition<_cryptopay_v1_AppStats, _cryptopay_v1_AppStats__Output>
      Balance: MessageTypeDefinition<_cryptopay_v1_Balance, _cryptopay_v1_Balance__Output>
      Check: MessageTypeDefinition<_cryptopay_v1_Check, _cryptopay_v1_Check__Output>
      CheckStatus: EnumTypeDefinition
      Currency: MessageTypeDefinition<_cryptopay_v1_Currency, _cryptopay_v1_Currency__Output>
      CurrencyType: EnumTypeDefinition
      ExchangeRate: MessageTypeDefinition<_cryptopay_v1_ExchangeRate, _cryptopay_v1_ExchangeRate__Output>
      Invoice: MessageTypeDefinition<_cryptopay_v1_Invoice, _cryptopay_v1_Invoice__Output>
      InvoiceStatus: EnumTypeDefinition
      NackRequest: MessageTypeDefinition<_cryptopay_v1_NackRequest, _cryptopay_v1_NackRequest__Output>
      NackResponse: MessageTypeDefinition<_cryptopay_v1_NackResponse, _cryptopay_v1_NackResponse__Output>
      PaidButtonName: EnumTypeDefinition
      StartPosition: EnumTypeDefinition
      SubscribeRequest: MessageTypeDefinition<_cryptopay_v1_SubscribeRequest, _cryptopay_v1_SubscribeRequest__Output>
      SubscribeResponse: MessageTypeDefinition<_cryptopay_v1_SubscribeResponse, _cryptopay_v1_SubscribeResponse__Output>
      Transfer: MessageTypeDefinition<_cryptopay_v1_Transfer, _cryptopay_v1_Transfer__Output>
      TransferStatus: EnumTypeDefinition
      WebhookEvent: MessageTypeDefinition<_cryptopay_v1_WebhookEvent, _cryptopay_v1_WebhookEvent__Output>
      WebhookService: SubtypeConstructor<typeof grpc.Client, _cryptopay_v1_WebhookServiceClient> & { service: _cryptopay_v1_WebhookServiceDefinition }
    }
  }
  google: {
    protobuf: {
      Duration: MessageTypeDefinition<_google_protobuf_Duration, _google_protobuf_Duration__Output>
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      NullValue: EnumTypeDefinition
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
  }
}

