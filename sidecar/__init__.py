"""cryptopay-sidecar: a gRPC sidecar for the Crypto Pay API."""

__version__ = "0.1.0"
