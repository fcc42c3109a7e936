// Original file: proto/cryptopay/v1/cryptopay_service.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateCheckRequest as _cryptopay_v1_CreateCheckRequest, CreateCheckRequest__Output as _cryptopay_v1_CreateCheckRequest__Output } from '../../cryptopay/v1/CreateCheckRequest';
import type { CreateCheckResponse as _cryptopay_v1_CreateCheckResponse, CreateCheckResponse__Output as _cryptopay_v1_CreateCheckResponse__Output } from '../../cryptopay/v1/CreateCheckResponse';
import type { CreateInvoiceRequest as _cryptopay_v1_CreateInvoiceRequest, CreateInvoiceRequest__Output as _cryptopay_v1_CreateInvoiceRequest__Output } from '../../cryptopay/v1/CreateInvoiceRequest';
import type { CreateInvoiceResponse as _cryptopay_v1_CreateInvoiceResponse, CreateInvoiceResponse__Output as _cryptopay_v1_CreateInvoiceResponse__Output } from '../../cryptopay/v1/CreateInvoiceResponse';
import type { DeleteCheckRequest as _cryptopay_v1_DeleteCheckRequest, DeleteCheckRequest__Output as _cryptopay_v1_DeleteCheckRequest__Output } from '../../cryptopay/v1/DeleteCheckRequest';
import type { DeleteCheckResponse as _cryptopay_v1_DeleteCheckResponse, DeleteCheckResponse__Output as _cryptopay_v1_DeleteCheckResponse__Output } from '../../cryptopay/v1/DeleteCheckResponse';
import type { DeleteInvoiceRequest as _cryptopay_v1_DeleteInvoiceRequest, DeleteInvoiceRequest__Output as _cryptopay_v1_DeleteInvoiceRequest__Output } from '../../cryptopay/v1/DeleteInvoiceRequest';
import type { DeleteInvoiceResponse as _cryptopay_v1_DeleteInvoiceResponse, DeleteInvoiceResponse__Output as _cryptopay_v1_DeleteInvoiceResponse__Output } from '../../cryptopay/v1/DeleteInvoiceResponse';
import type { GetBalanceRequest as _cryptopay_v1_GetBalanceRequest, GetBalanceRequest__Output as _cryptopay_v1_GetBalanceRequest__Output } from '../../cryptopay/v1/GetBalanceRequest';
import type { GetBalanceResponse as _cryptopay_v1_GetBalanceResponse, GetBalanceResponse__Output as _cryptopay_v1_GetBalanceResponse__Output } from '../../cryptopay/v1/GetBalanceResponse';
import type { GetChecksRequest as _cryptopay_v1_GetChecksRequest, GetChecksRequest__Output as _cryptopay_v1_GetChecksRequest__Output } from '../../cryptopay/v1/GetChecksRequest';
import type { GetChecksResponse as _cryptopay_v1_GetChecksResponse, GetChecksResponse__Output as _cryptopay_v1_GetChecksResponse__Output } from '../../cryptopay/v1/GetChecksResponse';
import type { GetCurrenciesRequest as _cryptopay_v1_GetCurrenciesRequest, GetCurrenciesRequest__Output as _cryptopay_v1_GetCurrenciesRequest__Output } from '../../cryptopay/v1/GetCurrenciesRequest';
import type { GetCurrenciesResponse as _cryptopay_v1_GetCurrenciesResponse, GetCurrenciesResponse__Output as _cryptopay_v1_GetCurrenciesResponse__Output } from '../../cryptopay/v1/GetCurrenciesResponse';
import type { GetExchangeRatesRequest as _cryptopay_v1_GetExchangeRatesRequest, GetExchangeRatesRequest__Output as _cryptopay_v1_GetExchangeRatesRequest__Output } from '../../cryptopay/v1/GetExchangeRatesRequest';
import type { GetExchangeRatesResponse as _cryptopay_v1_GetExchangeRatesResponse, GetExchangeRatesResponse__Output as _cryptopay_v1_GetExchangeRatesResponse__Output } from '../../cryptopay/v1/GetExchangeRatesResponse';
import type { GetInvoicesRequest as _cryptopay_v1_GetInvoicesRequest, GetInvoicesRequest__Output as _cryptopay_v1_GetInvoicesRequest__Output } from '../../cryptopay/v1/GetInvoicesRequest';
import type { GetInvoicesResponse as _cryptopay_v1_GetInvoicesResponse, GetInvoicesResponse__Output as _cryptopay_v1_GetInvoicesResponse__Output } from '../../cryptopay/v1/GetInvoicesResponse';
import type { GetMeRequest as _cryptopay_v1_GetMeRequest, GetMeRequest__Output as _cryptopay_v1_GetMeRequest__Output } from '../../cryptopay/v1/GetMeRequest';
import type { GetMeResponse as _cryptopay_v1_GetMeResponse, GetMeResponse__Output as _cryptopay_v1_GetMeResponse__Output } from '../../cryptopay/v1/GetMeResponse';
import type { GetStatsRequest as _cryptopay_v1_GetStatsRequest, GetStatsRequest__Output as _cryptopay_v1_GetStatsRequest__Output } from '../../cryptopay/v1/GetStatsRequest';
import type { GetStatsResponse as _cryptopay_v1_GetStatsResponse, GetStatsResponse__Output as _cryptopay_v1_GetStatsResponse__Output } from '../../cryptopay/v1/GetStatsResponse';
import type { GetTransfersRequest as _cryptopay_v1_GetTransfersRequest, GetTransfersRequest__Output as _cryptopay_v1_GetTransfersRequest__Output } from '../../cryptopay/v1/GetTransfersRequest';
import type { GetTransfersResponse as _cryptopay_v1_GetTransfersResponse, GetTransfersResponse__Output as _cryptopay_v1_GetTransfersResponse__Output } from '../../cryptopay/v1/GetTransfersResponse';
import type { TransferRequest as _cryptopay_v1_TransferRequest, TransferRequest__Output as _cryptopay_v1_TransferRequest__Output } from '../../cryptopay/v1/TransferRequest';
import type { TransferResponse as _cryptopay_v1_TransferResponse, TransferResponse__Output as _cryptopay_v1_TransferResponse__Output } from '../../cryptopay/v1/TransferResponse';

export interface CryptoPayServiceClient extends grpc.Client {
  CreateCheck(argument: _cryptopay_v1_CreateCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_CreateCheckResponse__Output>): grpc.ClientUnaryCall;
  CreateCheck(argument: _cryptopay_v1_CreateCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_CreateCheckResponse__Output>): grpc.ClientUnaryCall;
  CreateCheck(argument: _cryptopay_v1_CreateCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_CreateCheckResponse__Output>): grpc.ClientUnaryCall;
  CreateCheck(argument: _cryptopay_v1_CreateCheckRequest, callback: grpc.requestCallback<_cryptopay_v1_CreateCheckResponse__Output>): grpc.ClientUnaryCall;
  createCheck(argument: _cryptopay_v1_CreateCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_CreateCheckResponse__Output>): grpc.ClientUnaryCall;
  createCheck(argument: _cryptopay_v1_CreateCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_CreateCheckResponse__Output>): grpc.ClientUnaryCall;
  createCheck(argument: _cryptopay_v1_CreateCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_CreateCheckResponse__Output>): grpc.ClientUnaryCall;
  createCheck(argument: _cryptopay_v1_CreateCheckRequest, callback: grpc.requestCallback<_cryptopay_v1_CreateCheckResponse__Output>): grpc.ClientUnaryCall;
  
  CreateInvoice(argument: _cryptopay_v1_CreateInvoiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_CreateInvoiceResponse__Output>): grpc.ClientUnaryCall;
  CreateInvoice(argument: _cryptopay_v1_CreateInvoiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_CreateInvoiceResponse__Output>): grpc.ClientUnaryCall;
  CreateInvoice(argument: _cryptopay_v1_CreateInvoiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_CreateInvoiceResponse__Output>): grpc.ClientUnaryCall;
  CreateInvoice(argument: _cryptopay_v1_CreateInvoiceRequest, callback: grpc.requestCallback<_cryptopay_v1_CreateInvoiceResponse__Output>): grpc.ClientUnaryCall;
  createInvoice(argument: _cryptopay_v1_CreateInvoiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_CreateInvoiceResponse__Output>): grpc.ClientUnaryCall;
  createInvoice(argument: _cryptopay_v1_CreateInvoiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_CreateInvoiceResponse__Output>): grpc.ClientUnaryCall;
  createInvoice(argument: _cryptopay_v1_CreateInvoiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_CreateInvoiceResponse__Output>): grpc.ClientUnaryCall;
  createInvoice(argument: _cryptopay_v1_CreateInvoiceRequest, callback: grpc.requestCallback<_cryptopay_v1_CreateInvoiceResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteCheck(argument: _cryptopay_v1_DeleteCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_DeleteCheckResponse__Output>): grpc.ClientUnaryCall;
  DeleteCheck(argument: _cryptopay_v1_DeleteCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_DeleteCheckResponse__Output>): grpc.ClientUnaryCall;
  DeleteCheck(argument: _cryptopay_v1_DeleteCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_DeleteCheckResponse__Output>): grpc.ClientUnaryCall;
  DeleteCheck(argument: _cryptopay_v1_DeleteCheckRequest, callback: grpc.requestCallback<_cryptopay_v1_DeleteCheckResponse__Output>): grpc.ClientUnaryCall;
  deleteCheck(argument: _cryptopay_v1_DeleteCheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_DeleteCheckResponse__Output>): grpc.ClientUnaryCall;
  deleteCheck(argument: _cryptopay_v1_DeleteCheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_DeleteCheckResponse__Output>): grpc.ClientUnaryCall;
  deleteCheck(argument: _cryptopay_v1_DeleteCheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_DeleteCheckResponse__Output>): grpc.ClientUnaryCall;
  deleteCheck(argument: _cryptopay_v1_DeleteCheckRequest, callback: grpc.requestCallback<_cryptopay_v1_DeleteCheckResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteInvoice(argument: _cryptopay_v1_DeleteInvoiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_DeleteInvoiceResponse__Output>): grpc.ClientUnaryCall;
  DeleteInvoice(argument: _cryptopay_v1_DeleteInvoiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_DeleteInvoiceResponse__Output>): grpc.ClientUnaryCall;
  DeleteInvoice(argument: _cryptopay_v1_DeleteInvoiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_DeleteInvoiceResponse__Output>): grpc.ClientUnaryCall;
  DeleteInvoice(argument: _cryptopay_v1_DeleteInvoiceRequest, callback: grpc.requestCallback<_cryptopay_v1_DeleteInvoiceResponse__Output>): grpc.ClientUnaryCall;
  deleteInvoice(argument: _cryptopay_v1_DeleteInvoiceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_DeleteInvoiceResponse__Output>): grpc.ClientUnaryCall;
  deleteInvoice(argument: _cryptopay_v1_DeleteInvoiceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_DeleteInvoiceResponse__Output>): grpc.ClientUnaryCall;
  deleteInvoice(argument: _cryptopay_v1_DeleteInvoiceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_DeleteInvoiceResponse__Output>): grpc.ClientUnaryCall;
  deleteInvoice(argument: _cryptopay_v1_DeleteInvoiceRequest, callback: grpc.requestCallback<_cryptopay_v1_DeleteInvoiceResponse__Output>): grpc.ClientUnaryCall;
  
  GetBalance(argument: _cryptopay_v1_GetBalanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  GetBalance(argument: _cryptopay_v1_GetBalanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  GetBalance(argument: _cryptopay_v1_GetBalanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  GetBalance(argument: _cryptopay_v1_GetBalanceRequest, callback: grpc.requestCallback<_cryptopay_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _cryptopay_v1_GetBalanceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _cryptopay_v1_GetBalanceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _cryptopay_v1_GetBalanceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  getBalance(argument: _cryptopay_v1_GetBalanceRequest, callback: grpc.requestCallback<_cryptopay_v1_GetBalanceResponse__Output>): grpc.ClientUnaryCall;
  
  GetChecks(argument: _cryptopay_v1_GetChecksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetChecksResponse__Output>): grpc.ClientUnaryCall;
  GetChecks(argument: _cryptopay_v1_GetChecksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetChecksResponse__Output>): grpc.ClientUnaryCall;
  GetChecks(argument: _cryptopay_v1_GetChecksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetChecksResponse__Output>): grpc.ClientUnaryCall;
  GetChecks(argument: _cryptopay_v1_GetChecksRequest, callback: grpc.requestCallback<_cryptopay_v1_GetChecksResponse__Output>): grpc.ClientUnaryCall;
  getChecks(argument: _cryptopay_v1_GetChecksRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetChecksResponse__Output>): grpc.ClientUnaryCall;
  getChecks(argument: _cryptopay_v1_GetChecksRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetChecksResponse__Output>): grpc.ClientUnaryCall;
  getChecks(argument: _cryptopay_v1_GetChecksRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetChecksResponse__Output>): grpc.ClientUnaryCall;
  getChecks(argument: _cryptopay_v1_GetChecksRequest, callback: grpc.requestCallback<_cryptopay_v1_GetChecksResponse__Output>): grpc.ClientUnaryCall;
  
  GetCurrencies(argument: _cryptopay_v1_GetCurrenciesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetCurrenciesResponse__Output>): grpc.ClientUnaryCall;
  GetCurrencies(argument: _cryptopay_v1_GetCurrenciesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetCurrenciesResponse__Output>): grpc.ClientUnaryCall;
  GetCurrencies(argument: _cryptopay_v1_GetCurrenciesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetCurrenciesResponse__Output>): grpc.ClientUnaryCall;
  GetCurrencies(argument: _cryptopay_v1_GetCurrenciesRequest, callback: grpc.requestCallback<_cryptopay_v1_GetCurrenciesResponse__Output>): grpc.ClientUnaryCall;
  getCurrencies(argument: _cryptopay_v1_GetCurrenciesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetCurrenciesResponse__Output>): grpc.ClientUnaryCall;
  getCurrencies(argument: _cryptopay_v1_GetCurrenciesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetCurrenciesResponse__Output>): grpc.ClientUnaryCall;
  getCurrencies(argument: _cryptopay_v1_GetCurrenciesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetCurrenciesResponse__Output>): grpc.ClientUnaryCall;
  getCurrencies(argument: _cryptopay_v1_GetCurrenciesRequest, callback: grpc.requestCallback<_cryptopay_v1_GetCurrenciesResponse__Output>): grpc.ClientUnaryCall;
  
  GetExchangeRates(argument: _cryptopay_v1_GetExchangeRatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetExchangeRatesResponse__Output>): grpc.ClientUnaryCall;
  GetExchangeRates(argument: _cryptopay_v1_GetExchangeRatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetExchangeRatesResponse__Output>): grpc.ClientUnaryCall;
  GetExchangeRates(argument: _cryptopay_v1_GetExchangeRatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetExchangeRatesResponse__Output>): grpc.ClientUnaryCall;
  GetExchangeRates(argument: _cryptopay_v1_GetExchangeRatesRequest, callback: grpc.requestCallback<_cryptopay_v1_GetExchangeRatesResponse__Output>): grpc.ClientUnaryCall;
  getExchangeRates(argument: _cryptopay_v1_GetExchangeRatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetExchangeRatesResponse__Output>): grpc.ClientUnaryCall;
  getExchangeRates(argument: _cryptopay_v1_GetExchangeRatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetExchangeRatesResponse__Output>): grpc.ClientUnaryCall;
  getExchangeRates(argument: _cryptopay_v1_GetExchangeRatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetExchangeRatesResponse__Output>): grpc.ClientUnaryCall;
  getExchangeRates(argument: _cryptopay_v1_GetExchangeRatesRequest, callback: grpc.requestCallback<_cryptopay_v1_GetExchangeRatesResponse__Output>): grpc.ClientUnaryCall;
  
  GetInvoices(argument: _cryptopay_v1_GetInvoicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetInvoicesResponse__Output>): grpc.ClientUnaryCall;
  GetInvoices(argument: _cryptopay_v1_GetInvoicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetInvoicesResponse__Output>): grpc.ClientUnaryCall;
  GetInvoices(argument: _cryptopay_v1_GetInvoicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetInvoicesResponse__Output>): grpc.ClientUnaryCall;
  GetInvoices(argument: _cryptopay_v1_GetInvoicesRequest, callback: grpc.requestCallback<_cryptopay_v1_GetInvoicesResponse__Output>): grpc.ClientUnaryCall;
  getInvoices(argument: _cryptopay_v1_GetInvoicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetInvoicesResponse__Output>): grpc.ClientUnaryCall;
  getInvoices(argument: _cryptopay_v1_GetInvoicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetInvoicesResponse__Output>): grpc.ClientUnaryCall;
  getInvoices(argument: _cryptopay_v1_GetInvoicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetInvoicesResponse__Output>): grpc.ClientUnaryCall;
  getInvoices(argument: _cryptopay_v1_GetInvoicesRequest, callback: grpc.requestCallback<_cryptopay_v1_GetInvoicesResponse__Output>): grpc.ClientUnaryCall;
  
  GetMe(argument: _cryptopay_v1_GetMeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetMeResponse__Output>): grpc.ClientUnaryCall;
  GetMe(argument: _cryptopay_v1_GetMeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetMeResponse__Output>): grpc.ClientUnaryCall;
  GetMe(argument: _cryptopay_v1_GetMeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetMeResponse__Output>): grpc.ClientUnaryCall;
  GetMe(argument: _cryptopay_v1_GetMeRequest, callback: grpc.requestCallback<_cryptopay_v1_GetMeResponse__Output>): grpc.ClientUnaryCall;
  getMe(argument: _cryptopay_v1_GetMeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetMeResponse__Output>): grpc.ClientUnaryCall;
  getMe(argument: _cryptopay_v1_GetMeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetMeResponse__Output>): grpc.ClientUnaryCall;
  getMe(argument: _cryptopay_v1_GetMeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetMeResponse__Output>): grpc.ClientUnaryCall;
  getMe(argument: _cryptopay_v1_GetMeRequest, callback: grpc.requestCallback<_cryptopay_v1_GetMeResponse__Output>): grpc.ClientUnaryCall;
  
  GetStats(argument: _cryptopay_v1_GetStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetStatsResponse__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _cryptopay_v1_GetStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetStatsResponse__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _cryptopay_v1_GetStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetStatsResponse__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _cryptopay_v1_GetStatsRequest, callback: grpc.requestCallback<_cryptopay_v1_GetStatsResponse__Output>): grpc.ClientUnaryCall;
  getStats(argument: _cryptopay_v1_GetStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetStatsResponse__Output>): grpc.ClientUnaryCall;
  getStats(argument: _cryptopay_v1_GetStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetStatsResponse__Output>): grpc.ClientUnaryCall;
  getStats(argument: _cryptopay_v1_GetStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetStatsResponse__Output>): grpc.ClientUnaryCall;
  getStats(argument: _cryptopay_v1_GetStatsRequest, callback: grpc.requestCallback<_cryptopay_v1_GetStatsResponse__Output>): grpc.ClientUnaryCall;
  
  GetTransfers(argument: _cryptopay_v1_GetTransfersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetTransfersResponse__Output>): grpc.ClientUnaryCall;
  GetTransfers(argument: _cryptopay_v1_GetTransfersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetTransfersResponse__Output>): grpc.ClientUnaryCall;
  GetTransfers(argument: _cryptopay_v1_GetTransfersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetTransfersResponse__Output>): grpc.ClientUnaryCall;
  GetTransfers(argument: _cryptopay_v1_GetTransfersRequest, callback: grpc.requestCallback<_cryptopay_v1_GetTransfersResponse__Output>): grpc.ClientUnaryCall;
  getTransfers(argument: _cryptopay_v1_GetTransfersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetTransfersResponse__Output>): grpc.ClientUnaryCall;
  getTransfers(argument: _cryptopay_v1_GetTransfersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_GetTransfersResponse__Output>): grpc.ClientUnaryCall;
  getTransfers(argument: _cryptopay_v1_GetTransfersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_GetTransfersResponse__Output>): grpc.ClientUnaryCall;
  getTransfers(argument: _cryptopay_v1_GetTransfersRequest, callback: grpc.requestCallback<_cryptopay_v1_GetTransfersResponse__Output>): grpc.ClientUnaryCall;
  
  Transfer(argument: _cryptopay_v1_TransferRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_TransferResponse__Output>): grpc.ClientUnaryCall;
  Transfer(argument: _cryptopay_v1_TransferRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_TransferResponse__Output>): grpc.ClientUnaryCall;
  Transfer(argument: _cryptopay_v1_TransferRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_TransferResponse__Output>): grpc.ClientUnaryCall;
  Transfer(argument: _cryptopay_v1_TransferRequest, callback: grpc.requestCallback<_cryptopay_v1_TransferResponse__Output>): grpc.ClientUnaryCall;
  transfer(argument: _cryptopay_v1_TransferRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_TransferResponse__Output>): grpc.ClientUnaryCall;
  transfer(argument: _cryptopay_v1_TransferRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cryptopay_v1_TransferResponse__Output>): grpc.ClientUnaryCall;
  transfer(argument: _cryptopay_v1_TransferRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cryptopay_v1_TransferResponse__Output>): grpc.ClientUnaryCall;
  transfer(argument: _cryptopay_v1_TransferRequest, callback: grpc.requestCallback<_cryptopay_v1_TransferResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CryptoPayServiceHandlers extends grpc.UntypedServiceImplementation {
  CreateCheck: grpc.handleUnaryCall<_cryptopay_v1_CreateCheckRequest__Output, _cryptopay_v1_CreateCheckResponse>;
  
  CreateInvoice: grpc.handleUnaryCall<_cryptopay_v1_CreateInvoiceRequest__Output, _cryptopay_v1_CreateInvoiceResponse>;
  
  DeleteCheck: grpc.handleUnaryCall<_cryptopay_v1_DeleteCheckRequest__Output, _cryptopay_v1_DeleteCheckResponse>;
  
  DeleteInvoice: grpc.handleUnaryCall<_cryptopay_v1_DeleteInvoiceRequest__Output, _cryptopay_v1_DeleteInvoiceResponse>;
  
  GetBalance: grpc.handleUnaryCall<_cryptopay_v1_GetBalanceRequest__Output, _cryptopay_v1_GetBalanceResponse>;
  
  GetChecks: grpc.handleUnaryCall<_cryptopay_v1_GetChecksRequest__Output, _cryptopay_v1_GetChecksResponse>;
  
  GetCurrencies: grpc.handleUnaryCall<_cryptopay_v1_GetCurrenciesRequest__Output, _cryptopay_v1_GetCurrenciesResponse>;
  
  GetExchangeRates: grpc.handleUnaryCall<_cryptopay_v1_GetExchangeRatesRequest__Output, _cryptopay_v1_GetExchangeRatesResponse>;
  
  GetInvoices: grpc.handleUnaryCall<_cryptopay_v1_GetInvoicesRequest__Output, _cryptopay_v1_GetInvoicesResponse>;
  
  GetMe: grpc.handleUnaryCall<_cryptopay_v1_GetMeRequest__Output, _cryptopay_v1_GetMeResponse>;
  
  GetStats: grpc.handleUnaryCall<_cryptopay_v1_GetStatsRequest__Output, _cryptopay_v1_GetStatsResponse>;
  
  GetTransfers: grpc.handleUnaryCall<_cryptopay_v1_GetTransfersRequest__Output, _cryptopay_v1_GetTransfersResponse>;
  
  Transfer: grpc.handleUnaryCall<_cryptopay_v1_TransferRequest__Output, _cryptopay_v1_TransferResponse>;
  
}

export interface CryptoPayServiceDefinition extends grpc.ServiceDefinition {
  CreateCheck: MethodDefinition<_cryptopay_v1_CreateCheckRequest, _cryptopay_v1_CreateCheckResponse, _cryptopay_v1_CreateCheckRequest__Output, _cryptopay_v1_CreateCheckResponse__Output>
  CreateInvoice: MethodDefinition<_cryptopay_v1_CreateInvoiceRequest, _cryptopay_v1_CreateInvoiceResponse, _cryptopay_v1_CreateInvoiceRequest__Output, _cryptopay_v1_CreateInvoiceResponse__Output>
  DeleteCheck: MethodDefinition<_cryptopay_v1_DeleteCheckRequest, _cryptopay_v1_DeleteCheckResponse, _cryptopay_v1_DeleteCheckRequest__Output, _cryptopay_v1_DeleteCheckResponse__Output>
  DeleteInvoice: MethodDefinition<_cryptopay_v1_DeleteInvoiceRequest, _cryptopay_v1_DeleteInvoiceResponse, _cryptopay_v1_DeleteInvoiceRequest__Output, _cryptopay_v1_DeleteInvoiceResponse__Output>
  GetBalance: MethodDefinition<_cryptopay_v1_GetBalanceRequest, _cryptopay_v1_GetBalanceResponse, _cryptopay_v1_GetBalanceRequest__Output, _cryptopay_v1_GetBalanceResponse__Output>
  GetChecks: MethodDefinition<_cryptopay_v1_GetChecksRequest, _cryptopay_v1_GetChecksResponse, _cryptopay_v1_GetChecksRequest__Output, _cryptopay_v1_GetChecksResponse__Output>
  GetCurrencies: MethodDefinition<_cryptopay_v1_GetCurrenciesRequest, _cryptopay_v1_GetCurrenciesResponse, _cryptopay_v1_GetCurrenciesRequest__Output, _cryptopay_v1_GetCurrenciesResponse__Output>
  GetExchangeRates: MethodDefinition<_cryptopay_v1_GetExchangeRatesRequest, _cryptopay_v1_GetExchangeRatesResponse, _cryptopay_v1_GetExchangeRatesRequest__Output, _cryptopay_v1_GetExchangeRatesResponse__Output>
  GetInvoices: MethodDefinition<_cryptopay_v1_GetInvoicesRequest, _cryptopay_v1_GetInvoicesResponse, _cryptopay_v1_GetInvoicesRequest__Output, _cryptopay_v1_GetInvoicesResponse__Output>
  GetMe: MethodDefinition<_cryptopay_v1_GetMeRequest, _cryptopay_v1_GetMeResponse, _cryptopay_v1_GetMeRequest__Output, _cryptopay_v1_GetMeResponse__Output>
  GetStats: MethodDefinition<_cryptopay_v1_GetStatsRequest, _cryptopay_v1_GetStatsResponse, _cryptopay_v1_GetStatsRequest__Output, _cryptopay_v1_GetStatsResponse__Output>
  GetTransfers: MethodDefinition<_cryptopay_v1_GetTransfersRequest, _cryptopay_v1_GetTransfersResponse, _cryptopay_v1_GetTransfersRequest__Output, _cryptopay_v1_GetTransfersResponse__Output>
  Transfer: MethodDefinition<_cryptopay_v1_TransferRequest, _cryptopay_v1_TransferResponse, _cryptopay_v1_TransferRequest__Output, _cryptopay_v1_TransferResponse__Output>
}
