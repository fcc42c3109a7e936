"""Client and server classes corresponding to protobuf-defined services."""
import grpc
import warnings
from ...cryptopay.v1 import cryptopay_service_pb2 as cryptopay_dot_v1_dot_cryptopay__service__pb2
GRPC_GENERATED_VERSION = '1.85.1'
GRPC_VERSION = grpc.__version__
_version_not_supported = False
try:
    from grpc._utilities import first_version_is_lower
    _version_not_supported = first_version_is_lower(GRPC_VERSION, GRPC_GENERATED_VERSION)
except ImportError:
    _version_not_supported = True
if _version_not_supported:
    raise RuntimeError(f'The grpc package installed is at version {GRPC_VERSION},' + ' but the generated code in cryptopay/v1/cryptopay_service_pb2_grpc.py depends on' + f' grpcio>={GRPC_GENERATED_VERSION}.' + f' Please upgrade your grpc module to grpcio>={GRPC_GENERATED_VERSION}' + f' or downgrade your generated code using grpcio-tools<={GRPC_VERSION}.')

class CryptoPayServiceStub:
    """CryptoPayService exposes the 13 methods of the Crypto Pay API.
    """

    def __init__(self, channel):
        """Constructor.

        Args:
            channel: A grpc.Channel.
        """
        self.GetMe = channel.unary_unary('/cryptopay.v1.CryptoPayService/GetMe', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetMeRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetMeResponse.FromString, _registered_method=True)
        self.CreateInvoice = channel.unary_unary('/cryptopay.v1.CryptoPayService/CreateInvoice', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateInvoiceRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateInvoiceResponse.FromString, _registered_method=True)
        self.DeleteInvoice = channel.unary_unary('/cryptopay.v1.CryptoPayService/DeleteInvoice', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteInvoiceRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteInvoiceResponse.FromString, _registered_method=True)
        self.CreateCheck = channel.unary_unary('/cryptopay.v1.CryptoPayService/CreateCheck', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateCheckRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateCheckResponse.FromString, _registered_method=True)
        self.DeleteCheck = channel.unary_unary('/cryptopay.v1.CryptoPayService/DeleteCheck', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteCheckRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteCheckResponse.FromString, _registered_method=True)
        self.Transfer = channel.unary_unary('/cryptopay.v1.CryptoPayService/Transfer', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.TransferRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.TransferResponse.FromString, _registered_method=True)
        self.GetInvoices = channel.unary_unary('/cryptopay.v1.CryptoPayService/GetInvoices', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetInvoicesRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetInvoicesResponse.FromString, _registered_method=True)
        self.GetTransfers = channel.unary_unary('/cryptopay.v1.CryptoPayService/GetTransfers', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetTransfersRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetTransfersResponse.FromString, _registered_method=True)
        self.GetChecks = channel.unary_unary('/cryptopay.v1.CryptoPayService/GetChecks', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetChecksRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetChecksResponse.FromString, _registered_method=True)
        self.GetBalance = channel.unary_unary('/cryptopay.v1.CryptoPayService/GetBalance', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetBalanceRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetBalanceResponse.FromString, _registered_method=True)
        self.GetExchangeRates = channel.unary_unary('/cryptopay.v1.CryptoPayService/GetExchangeRates', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetExchangeRatesRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetExchangeRatesResponse.FromString, _registered_method=True)
        self.GetCurrencies = channel.unary_unary('/cryptopay.v1.CryptoPayService/GetCurrencies', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetCurrenciesRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetCurrenciesResponse.FromString, _registered_method=True)
        self.GetStats = channel.unary_unary('/cryptopay.v1.CryptoPayService/GetStats', request_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetStatsRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetStatsResponse.FromString, _registered_method=True)

class CryptoPayServiceServicer:
    """CryptoPayService exposes the 13 methods of the Crypto Pay API.
    """

    def GetMe(self, request, context):
        """getMe: the app the sidecar's token belongs to.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def CreateInvoice(self, request, context):
        """createInvoice. The upstream has no deduplication for invoices: send an idempotency-key.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def DeleteInvoice(self, request, context):
        """deleteInvoice.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def CreateCheck(self, request, context):
        """createCheck. The upstream has no deduplication for checks: send an idempotency-key.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def DeleteCheck(self, request, context):
        """deleteCheck.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def Transfer(self, request, context):
        """transfer. The upstream accepts a spend_id once per app.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def GetInvoices(self, request, context):
        """getInvoices.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def GetTransfers(self, request, context):
        """getTransfers.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def GetChecks(self, request, context):
        """getChecks.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def GetBalance(self, request, context):
        """getBalance.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def GetExchangeRates(self, request, context):
        """getExchangeRates.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def GetCurrencies(self, request, context):
        """getCurrencies.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def GetStats(self, request, context):
        """getStats.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

def add_CryptoPayServiceServicer_to_server(servicer, server):
    rpc_method_handlers = {'GetMe': grpc.unary_unary_rpc_method_handler(servicer.GetMe, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetMeRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetMeResponse.SerializeToString), 'CreateInvoice': grpc.unary_unary_rpc_method_handler(servicer.CreateInvoice, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateInvoiceRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateInvoiceResponse.SerializeToString), 'DeleteInvoice': grpc.unary_unary_rpc_method_handler(servicer.DeleteInvoice, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteInvoiceRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteInvoiceResponse.SerializeToString), 'CreateCheck': grpc.unary_unary_rpc_method_handler(servicer.CreateCheck, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateCheckRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateCheckResponse.SerializeToString), 'DeleteCheck': grpc.unary_unary_rpc_method_handler(servicer.DeleteCheck, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteCheckRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteCheckResponse.SerializeToString), 'Transfer': grpc.unary_unary_rpc_method_handler(servicer.Transfer, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.TransferRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.TransferResponse.SerializeToString), 'GetInvoices': grpc.unary_unary_rpc_method_handler(servicer.GetInvoices, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetInvoicesRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetInvoicesResponse.SerializeToString), 'GetTransfers': grpc.unary_unary_rpc_method_handler(servicer.GetTransfers, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetTransfersRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetTransfersResponse.SerializeToString), 'GetChecks': grpc.unary_unary_rpc_method_handler(servicer.GetChecks, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetChecksRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetChecksResponse.SerializeToString), 'GetBalance': grpc.unary_unary_rpc_method_handler(servicer.GetBalance, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetBalanceRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetBalanceResponse.SerializeToString), 'GetExchangeRates': grpc.unary_unary_rpc_method_handler(servicer.GetExchangeRates, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetExchangeRatesRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetExchangeRatesResponse.SerializeToString), 'GetCurrencies': grpc.unary_unary_rpc_method_handler(servicer.GetCurrencies, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetCurrenciesRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetCurrenciesResponse.SerializeToString), 'GetStats': grpc.unary_unary_rpc_method_handler(servicer.GetStats, request_deserializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetStatsRequest.FromString, response_serializer=cryptopay_dot_v1_dot_cryptopay__service__pb2.GetStatsResponse.SerializeToString)}
    generic_handler = grpc.method_handlers_generic_handler('cryptopay.v1.CryptoPayService', rpc_method_handlers)
    server.add_generic_rpc_handlers((generic_handler,))
    server.add_registered_method_handlers('cryptopay.v1.CryptoPayService', rpc_method_handlers)

class CryptoPayService:
    """CryptoPayService exposes the 13 methods of the Crypto Pay API.
    """

    @staticmethod
    def GetMe(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/GetMe', cryptopay_dot_v1_dot_cryptopay__service__pb2.GetMeRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.GetMeResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def CreateInvoice(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/CreateInvoice', cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateInvoiceRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateInvoiceResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def DeleteInvoice(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/DeleteInvoice', cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteInvoiceRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteInvoiceResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def CreateCheck(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/CreateCheck', cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateCheckRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.CreateCheckResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def DeleteCheck(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/DeleteCheck', cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteCheckRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.DeleteCheckResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def Transfer(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/Transfer', cryptopay_dot_v1_dot_cryptopay__service__pb2.TransferRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.TransferResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def GetInvoices(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/GetInvoices', cryptopay_dot_v1_dot_cryptopay__service__pb2.GetInvoicesRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.GetInvoicesResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def GetTransfers(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/GetTransfers', cryptopay_dot_v1_dot_cryptopay__service__pb2.GetTransfersRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.GetTransfersResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def GetChecks(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/GetChecks', cryptopay_dot_v1_dot_cryptopay__service__pb2.GetChecksRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.GetChecksResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def GetBalance(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/GetBalance', cryptopay_dot_v1_dot_cryptopay__service__pb2.GetBalanceRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.GetBalanceResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def GetExchangeRates(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/GetExchangeRates', cryptopay_dot_v1_dot_cryptopay__service__pb2.GetExchangeRatesRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.GetExchangeRatesResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def GetCurrencies(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/GetCurrencies', cryptopay_dot_v1_dot_cryptopay__service__pb2.GetCurrenciesRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.GetCurrenciesResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def GetStats(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.CryptoPayService/GetStats', cryptopay_dot_v1_dot_cryptopay__service__pb2.GetStatsRequest.SerializeToString, cryptopay_dot_v1_dot_cryptopay__service__pb2.GetStatsResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)