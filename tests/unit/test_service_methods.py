"""The gRPC servicer has one method per entry of the method table, and the table covers the
service."""

from __future__ import annotations

from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2 as pb
from sidecar.gen.cryptopay.v1 import cryptopay_service_pb2_grpc as pb_grpc
from sidecar.methods import METHODS
from sidecar.service import CryptoPayService


def test_every_rpc_of_the_service_is_served() -> None:
    service = pb.DESCRIPTOR.services_by_name["CryptoPayService"]
    assert sorted(m.name for m in service.methods) == sorted(spec.rpc for spec in METHODS)
    for spec in METHODS:
        method = getattr(CryptoPayService, spec.rpc)
        assert method is not getattr(pb_grpc.CryptoPayServiceServicer, spec.rpc)
        assert method.__name__ == spec.rpc
