import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { App as _cryptopay_v1_App, App__Output as _cryptopay_v1_App__Output } from './cryptopay/v1/App';
import type { AppStats as _cryptopay_v1_AppStats, AppStats__Output as _cryptopay_v1_AppStats__Output } from './cryptopay/v1/AppStats';
import type { Balance as _cryptopay_v1_Balance, Balance__Output as _cryptopay_v1_Balance__Output } from './cryptopay/v1/Balance';
import type { Check as _cryptopay_v1_Check, Check__Output as _cryptopay_v1_Check__Output } from './cryptopay/v1/Check';
import type { CreateCheckRequest as _cryptopay_v1_CreateCheckRequest, CreateCheckRequest__Output as _cryptopay_v1_CreateCheckRequest__Output } from './cryptopay/v1/CreateCheckRequest';
import type { CreateCheckResponse as _cryptopay_v1_CreateCheckResponse, CreateCheckResponse__Output as _cryptopay_v1_CreateCheckResponse__Output } from './cryptopay/v1/CreateCheckResponse';
import type { CreateInvoiceRequest as _cryptopay_v1_CreateInvoiceRequest, CreateInvoiceRequest__Output as _cryptopay_v1_CreateInvoiceRequest__Output } from './cryptopay/v1/CreateInvoiceRequest';
import type { CreateInvoiceResponse as _cryptopay_v1_CreateInvoiceResponse, CreateInvoiceResponse__Output as _cryptopay_v1_CreateInvoiceResponse__Output } from './cryptopay/v1/CreateInvoiceResponse';
import type { CryptoPayServiceClient as _cryptopay_v1_CryptoPayServiceClient, CryptoPayServiceDefinition as _cryptopay_v1_CryptoPayServiceDefinition } from './cryptopay/v1/CryptoPayService';
import type { Currency as _cryptopay_v1_Currency, Currency__Output as _cryptopay_v1_Currency__Output } from './cryptopay/v1/Currency';
import type { DeleteCheckRequest as _cryptopay_v1_DeleteCheckRequest, DeleteCheckRequest__Output as _cryptopay_v1_DeleteCheckRequest__Output } from './cryptopay/v1/DeleteCheckRequest';
import type { DeleteCheckResponse as _cryptopay_v1_DeleteCheckResponse, DeleteCheckResponse__Output as _cryptopay_v1_DeleteCheckResponse__Output } from './cryptopay/v1/DeleteCheckResponse';
import type { DeleteInvoiceRequest as _cryptopay_v1_DeleteInvoiceRequest, DeleteInvoiceRequest__Output as _cryptopay_v1_DeleteInvoiceRequest__Output } from './cryptopay/v1/DeleteInvoiceRequest';
import type { DeleteInvoiceResponse as _cryptopay_v1_DeleteInvoiceResponse, DeleteInvoiceResponse__Output as _cryptopay_v1_DeleteInvoiceResponse__Output } from './cryptopay/v1/DeleteInvoiceResponse';
import type { ExchangeRate as _cryptopay_v1_ExchangeRate, ExchangeRate__Output as _cryptopay_v1_ExchangeRate__Output } from './cryptopay/v1/ExchangeRate';
import type { GetBalanceRequest as _cryptopay_v1_GetBalanceRequest, GetBalanceRequest__Output as _cryptopay_v1_GetBalanceRequest__Output } from './cryptopay/v1/GetBalanceRequest';
import type { GetBalanceResponse as _cryptopay_v1_GetBalanceResponse, GetBalanceResponse__Output as _cryptopay_v1_GetBalanceResponse__Output } from './cryptopay/v1/GetBalanceResponse';
import type { GetChecksRequest as _cryptopay_v1_GetChecksRequest, GetChecksRequest__Output as _cryptopay_v1_GetChecksRequest__Output } from './cryptopay/v1/GetChecksRequest';
import type { GetChecksResponse as _cryptopay_v1_GetChecksResponse, GetChecksResponse__Output as _cryptopay_v1_GetChecksResponse__Output } from './cryptopay/v1/GetChecksResponse';
import type { GetCurrenciesRequest as _cryptopay_v1_GetCurrenciesRequest, GetCurrenciesRequest__Output as _cryptopay_v1_GetCurrenciesRequest__Output } from './cryptopay/v1/GetCurrenciesRequest';
import type { GetCurrenciesResponse as _cryptopay_v1_GetCurrenciesResponse, GetCurrenciesResponse__Output as _cryptopay_v1_GetCurrenciesResponse__Output } from './cryptopay/v1/GetCurrenciesResponse';
import type { GetExchangeRatesRequest as _cryptopay_v1_GetExchangeRatesRequest, GetExchangeRatesRequest__Output as _cryptopay_v1_GetExchangeRatesRequest__Output } from './cryptopay/v1/GetExchangeRatesRequest';
import type { GetExchangeRatesResponse as _cryptopay_v1_GetExchangeRatesResponse, GetExchangeRatesResponse__Output as _cryptopay_v1_GetExchangeRatesResponse__Output } from './cryptopay/v1/GetExchangeRatesResponse';
import type { GetInvoicesRequest as _cryptopay_v1_GetInvoicesRequest, GetInvoicesRequest__Output as _cryptopay_v1_GetInvoicesRequest__Output } from './cryptopay/v1/GetInvoicesRequest';
import type { GetInvoicesResponse as _cryptopay_v1_GetInvoicesResponse, GetInvoicesResponse__Output as _cryptopay_v1_GetInvoicesResponse__Output } from './cryptopay/v1/GetInvoicesResponse';
import type { GetMeRequest as _cryptopay_v1_GetMeRequest, GetMeRequest__Output as _cryptopay_v1_GetMeRequest__Output } from './cryptopay/v1/GetMeRequest';
import type { GetMeResponse as _cryptopay_v1_GetMeResponse, GetMeResponse__Output as _cryptopay_v1_GetMeResponse__Output } from './cryptopay/v1/GetMeResponse';
import type { GetStatsRequest as _cryptopay_v1_GetStatsRequest, GetStatsRequest__Output as _cryptopay_v1_GetStatsRequest__Output } from './cryptopay/v1/GetStatsRequest';
import type { GetStatsResponse as _cryptopay_v1_GetStatsResponse, GetStatsResponse__Output as _cryptopay_v1_GetStatsResponse__Output } from './cryptopay/v1/GetStatsResponse';
import type { GetTransfersRequest as _cryptopay_v1_GetTransfersRequest, GetTransfersRequest__Output as _cryptopay_v1_GetTransfersRequest__Output } from './cryptopay/v1/GetTransfersRequest';
import type { GetTransfersResponse as _cryptopay_v1_GetTransfersResponse, GetTransfersResponse__Output as _cryptopay_v1_GetTransfersResponse__Output } from './cryptopay/v1/GetTransfersResponse';
import type { Invoice as _cryptopay_v1_Invoice, Invoice__Output as _cryptopay_v1_Invoice__Output } from './cryptopay/v1/Invoice';
import type { Transfer as _cryptopay_v1_Transfer, Transfer__Output as _cryptopay_v1_Transfer__Output } from './cryptopay/v1/Transfer';
import type { TransferRequest as _cryptopay_v1_TransferRequest, TransferRequest__Output as _cryptopay_v1_TransferRequest__Output } from './cryptopay/v1/TransferRequest';
import type { TransferResponse as _cryptopay_v1_TransferResponse, TransferResponse__Output as _cryptopay_v1_TransferResponse__Output } from './cryptopay/v1/TransferResponse';
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
      App: MessageTypeDefinition<_cryptopay_v1_App, _cryptopay_v1_App__Output>
      AppStats: MessageTypeDefinition<_cryptopay_v1_AppStats, _cryptopay_v1_AppStats__Output>
      Balance: MessageTypeDefinition<_cryptopay_v1_Balance, _cryptopay_v1_Balance__Output>
      Check: MessageTypeDefinition<_cryptopay_v1_Check, _cryptopay_v1_Check__Output>
      CheckStatus: EnumTypeDefinition
      CreateCheckRequest: MessageTypeDefinition<_cryptopay_v1_CreateCheckRequest, _cryptopay_v1_CreateCheckRequest__Output>
      CreateCheckResponse: MessageTypeDefinition<_cryptopay_v1_CreateCheckResponse, _cryptopay_v1_CreateCheckResponse__Output>
      CreateInvoiceRequest: MessageTypeDefinition<_cryptopay_v1_CreateInvoiceRequest, _cryptopay_v1_CreateInvoiceRequest__Output>
      CreateInvoiceResponse: MessageTypeDefinition<_cryptopay_v1_CreateInvoiceResponse, _cryptopay_v1_CreateInvoiceResponse__Output>
      CryptoPayService: SubtypeConstructor<typeof grpc.Client, _cryptopay_v1_CryptoPayServiceClient> & { service: _cryptopay_v1_CryptoPayServiceDefinition }
      Currency: MessageTypeDefinition<_cryptopay_v1_Currency, _cryptopay_v1_Currency__Output>
      CurrencyType: EnumTypeDefinition
      DeleteCheckRequest: MessageTypeDefinition<_cryptopay_v1_DeleteCheckRequest, _cryptopay_v1_DeleteCheckRequest__Output>
      DeleteCheckResponse: MessageTypeDefinition<_cryptopay_v1_DeleteCheckResponse, _cryptopay_v1_DeleteCheckResponse__Output>
      DeleteInvoiceRequest: MessageTypeDefinition<_cryptopay_v1_DeleteInvoiceRequest, _cryptopay_v1_DeleteInvoiceRequest__Output>
      DeleteInvoiceResponse: MessageTypeDefinition<_cryptopay_v1_DeleteInvoiceResponse, _cryptopay_v1_DeleteInvoiceResponse__Output>
      ExchangeRate: MessageTypeDefinition<_cryptopay_v1_ExchangeRate, _cryptopay_v1_ExchangeRate__Output>
      GetBalanceRequest: MessageTypeDefinition<_cryptopay_v1_GetBalanceRequest, _cryptopay_v1_GetBalanceRequest__Output>
      GetBalanceResponse: MessageTypeDefinition<_cryptopay_v1_GetBalanceResponse, _cryptopay_v1_GetBalanceResponse__Output>
      GetChecksRequest: MessageTypeDefinition<_cryptopay_v1_GetChecksRequest, _cryptopay_v1_GetChecksRequest__Output>
      GetChecksResponse: MessageTypeDefinition<_cryptopay_v1_GetChecksResponse, _cryptopay_v1_GetChecksResponse__Output>
      GetCurrenciesRequest: MessageTypeDefinition<_cryptopay_v1_GetCurrenciesRequest, _cryptopay_v1_GetCurrenciesRequest__Output>
      GetCurrenciesResponse: MessageTypeDefinition<_cryptopay_v1_GetCurrenciesResponse, _cryptopay_v1_GetCurrenciesResponse__Output>
      GetExchangeRatesRequest: MessageTypeDefinition<_cryptopay_v1_GetExchangeRatesRequest, _cryptopay_v1_GetExchangeRatesRequest__Output>
      GetExchangeRatesResponse: MessageTypeDefinition<_cryptopay_v1_GetExchangeRatesResponse, _cryptopay_v1_GetExchangeRatesResponse__Output>
      GetInvoicesRequest: MessageTypeDefinition<_cryptopay_v1_GetInvoicesRequest, _cryptopay_v1_GetInvoicesRequest__Output>
      GetInvoicesResponse: MessageTypeDefinition<_cryptopay_v1_GetInvoicesResponse, _cryptopay_v1_GetInvoicesResponse__Output>
      GetMeRequest: MessageTypeDefinition<_cryptopay_v1_GetMeRequest, _cryptopay_v1_GetMeRequest__Output>
      GetMeResponse: MessageTypeDefinition<_cryptopay_v1_GetMeResponse, _cryptopay_v1_GetMeResponse__Output>
      GetStatsRequest: MessageTypeDefinition<_cryptopay_v1_GetStatsRequest, _cryptopay_v1_GetStatsRequest__Output>
      GetStatsResponse: MessageTypeDefinition<_cryptopay_v1_GetStatsResponse, _cryptopay_v1_GetStatsResponse__Output>
      GetTransfersRequest: MessageTypeDefinition<_cryptopay_v1_GetTransfersRequest, _cryptopay_v1_GetTransfersRequest__Output>
      GetTransfersResponse: MessageTypeDefinition<_cryptopay_v1_GetTransfersResponse, _cryptopay_v1_GetTransfersResponse__Output>
      Invoice: MessageTypeDefinition<_cryptopay_v1_Invoice, _cryptopay_v1_Invoice__Output>
      InvoiceStatus: EnumTypeDefinition
      PaidButtonName: EnumTypeDefinition
      Transfer: MessageTypeDefinition<_cryptopay_v1_Transfer, _cryptopay_v1_Transfer__Output>
      TransferRequest: MessageTypeDefinition<_cryptopay_v1_TransferRequest, _cryptopay_v1_TransferRequest__Output>
      TransferResponse: MessageTypeDefinition<_cryptopay_v1_TransferResponse, _cryptopay_v1_TransferResponse__Output>
      TransferStatus: EnumTypeDefinition
    }
  }
  google: {
    protobuf: {
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      NullValue: EnumTypeDefinition
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
  }
}

