"""Client and server classes corresponding to protobuf-defined services."""
import grpc
import warnings
from ...cryptopay.v1 import webhook_service_pb2 as cryptopay_dot_v1_dot_webhook__service__pb2
GRPC_GENERATED_VERSION = '1.85.1'
GRPC_VERSION = grpc.__version__
_version_not_supported = False
try:
    from grpc._utilities import first_version_is_lower
    _version_not_supported = first_version_is_lower(GRPC_VERSION, GRPC_GENERATED_VERSION)
except ImportError:
    _version_not_supported = True
if _version_not_supported:
    raise RuntimeError(f'The grpc package installed is at version {GRPC_VERSION},' + ' but the generated code in cryptopay/v1/webhook_service_pb2_grpc.py depends on' + f' grpcio>={GRPC_GENERATED_VERSION}.' + f' Please upgrade your grpc module to grpcio>={GRPC_GENERATED_VERSION}' + f' or downgrade your generated code using grpcio-tools<={GRPC_VERSION}.')

class WebhookServiceStub:
    """WebhookService delivers the webhook updates the sidecar received.
    """

    def __init__(self, channel):
        """Constructor.

        Args:
            channel: A grpc.Channel.
        """
        self.Subscribe = channel.unary_stream('/cryptopay.v1.WebhookService/Subscribe', request_serializer=cryptopay_dot_v1_dot_webhook__service__pb2.SubscribeRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_webhook__service__pb2.SubscribeResponse.FromString, _registered_method=True)
        self.Ack = channel.unary_unary('/cryptopay.v1.WebhookService/Ack', request_serializer=cryptopay_dot_v1_dot_webhook__service__pb2.AckRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_webhook__service__pb2.AckResponse.FromString, _registered_method=True)
        self.Nack = channel.unary_unary('/cryptopay.v1.WebhookService/Nack', request_serializer=cryptopay_dot_v1_dot_webhook__service__pb2.NackRequest.SerializeToString, response_deserializer=cryptopay_dot_v1_dot_webhook__service__pb2.NackResponse.FromString, _registered_method=True)

class WebhookServiceServicer:
    """WebhookService delivers the webhook updates the sidecar received.
    """

    def Subscribe(self, request, context):
        """A stream of events, oldest first.

        Without a group every subscriber receives every event (broadcast), from the start position
        it asks for; a subscriber that reconnects with after_event_id = the last id it received
        gets everything it missed, with no gap and no duplicate, while the events are retained.
        If retention already removed some of them the call fails with OUT_OF_RANGE (reason
        EVENTS_EXPIRED): resubscribe from START_POSITION_EARLIEST and reconcile with GetInvoices.

        With a group, the group's members share the events: each goes to one member, which must
        Ack it; an event not acknowledged within the visibility timeout is delivered again, to any
        member. Members may be connected to different replicas of the sidecar.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def Ack(self, request, context):
        """Acknowledges events delivered to a group: they are not delivered again. Any replica
        sharing the event log accepts it.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

    def Nack(self, request, context):
        """Hands events back to the group: they are delivered again at once, to any member.
        """
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details('Method not implemented!')
        raise NotImplementedError('Method not implemented!')

def add_WebhookServiceServicer_to_server(servicer, server):
    rpc_method_handlers = {'Subscribe': grpc.unary_stream_rpc_method_handler(servicer.Subscribe, request_deserializer=cryptopay_dot_v1_dot_webhook__service__pb2.SubscribeRequest.FromString, response_serializer=cryptopay_dot_v1_dot_webhook__service__pb2.SubscribeResponse.SerializeToString), 'Ack': grpc.unary_unary_rpc_method_handler(servicer.Ack, request_deserializer=cryptopay_dot_v1_dot_webhook__service__pb2.AckRequest.FromString, response_serializer=cryptopay_dot_v1_dot_webhook__service__pb2.AckResponse.SerializeToString), 'Nack': grpc.unary_unary_rpc_method_handler(servicer.Nack, request_deserializer=cryptopay_dot_v1_dot_webhook__service__pb2.NackRequest.FromString, response_serializer=cryptopay_dot_v1_dot_webhook__service__pb2.NackResponse.SerializeToString)}
    generic_handler = grpc.method_handlers_generic_handler('cryptopay.v1.WebhookService', rpc_method_handlers)
    server.add_generic_rpc_handlers((generic_handler,))
    server.add_registered_method_handlers('cryptopay.v1.WebhookService', rpc_method_handlers)

class WebhookService:
    """WebhookService delivers the webhook updates the sidecar received.
    """

    @staticmethod
    def Subscribe(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_stream(request, target, '/cryptopay.v1.WebhookService/Subscribe', cryptopay_dot_v1_dot_webhook__service__pb2.SubscribeRequest.SerializeToString, cryptopay_dot_v1_dot_webhook__service__pb2.SubscribeResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def Ack(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.WebhookService/Ack', cryptopay_dot_v1_dot_webhook__service__pb2.AckRequest.SerializeToString, cryptopay_dot_v1_dot_webhook__service__pb2.AckResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)

    @staticmethod
    def Nack(request, target, options=(), channel_credentials=None, call_credentials=None, insecure=False, compression=None, wait_for_ready=None, timeout=None, metadata=None):
        return grpc.experimental.unary_unary(request, target, '/cryptopay.v1.WebhookService/Nack', cryptopay_dot_v1_dot_webhook__service__pb2.NackRequest.SerializeToString, cryptopay_dot_v1_dot_webhook__service__pb2.NackResponse.FromString, options, channel_credentials, insecure, call_credentials, compression, wait_for_ready, timeout, metadata, _registered_method=True)