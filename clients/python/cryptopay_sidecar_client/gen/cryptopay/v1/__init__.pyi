from . import cryptopay_service_pb2
from . import cryptopay_service_pb2_grpc
from . import types_pb2
from . import types_pb2_grpc
from . import webhook_service_pb2
from . import webhook_service_pb2_grpc
