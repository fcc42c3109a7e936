// Package sidecar connects Go services to cryptopay-sidecar with the settings a long-lived
// service wants, and carries idempotency keys.
//
//   - Keepalive every 30 s (the sidecar accepts pings down to every 10 s).
//   - Fast reconnects (at most 5 s apart), so a sidecar restarting in the same pod is back quickly.
//   - Reads (Get*) retried by gRPC on UNAVAILABLE, with backoff and retry throttling (grpc-go
//     before 1.40 applies retry policies only with GRPC_GO_RETRY=on). Mutating calls are never
//     retried by the connection: resend them with the same idempotency key, when MayResend says so.
//   - Plaintext by default (the sidecar in the same pod, on loopback); TLS and mTLS with
//     TLSOptions, or from the CRYPTOPAY_SIDECAR_* environment variables (TLSFromEnv).
package sidecar

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const (
	// DefaultTarget is where the sidecar listens by default.
	DefaultTarget = "127.0.0.1:50051"
	// TargetEnv names the environment variable that overrides DefaultTarget.
	TargetEnv = "CRYPTOPAY_SIDECAR_TARGET"
	// IdempotencyKeyHeader is the request metadata that carries an idempotency key.
	IdempotencyKeyHeader = "idempotency-key"
	// ReplayedHeader is the trailer set when the sidecar answered from its idempotency record.
	ReplayedHeader = "idempotent-replayed"
)

// ServiceConfig retries reads only, throttled when most calls fail.
const ServiceConfig = `{
  "methodConfig": [{
    "name": [
      {"service": "cryptopay.v1.CryptoPayService", "method": "GetMe"},
      {"service": "cryptopay.v1.CryptoPayService", "method": "GetInvoices"},
      {"service": "cryptopay.v1.CryptoPayService", "method": "GetTransfers"},
      {"service": "cryptopay.v1.CryptoPayService", "method": "GetChecks"},
      {"service": "cryptopay.v1.CryptoPayService", "method": "GetBalance"},
      {"service": "cryptopay.v1.CryptoPayService", "method": "GetExchangeRates"},
      {"service": "cryptopay.v1.CryptoPayService", "method": "GetCurrencies"},
      {"service": "cryptopay.v1.CryptoPayService", "method": "GetStats"}
    ],
    "retryPolicy": {
      "maxAttempts": 4,
      "initialBackoff": "0.1s",
      "maxBackoff": "2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }],
  "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}
}`

// Target is target when set, else $CRYPTOPAY_SIDECAR_TARGET, else DefaultTarget.
func Target(target string) string {
	if target != "" {
		return target
	}
	if env := os.Getenv(TargetEnv); env != "" {
		return env
	}
	return DefaultTarget
}

// DialOptions are the connection settings described in the package documentation. They carry
// no transport credentials: Dial adds them, or add grpc.WithInsecure() or a TLSOptions'
// DialOption when calling grpc.DialContext yourself.
func DialOptions() []grpc.DialOption {
	reconnect := backoff.DefaultConfig
	reconnect.BaseDelay = 200 * time.Millisecond
	reconnect.MaxDelay = 5 * time.Second
	return []grpc.DialOption{
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                30 * time.Second,
			Timeout:             10 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: reconnect}),
		grpc.WithDefaultServiceConfig(ServiceConfig),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16 << 20)),
	}
}

// Dial connects to the sidecar at Target(target) with DialOptions, then extra. With creds nil
// the environment decides (TLSFromEnv): plaintext, for the sidecar on the pod's loopback,
// unless it asks for TLS. Otherwise creds, for example from TLSOptions.Credentials.
func Dial(ctx context.Context, target string, creds credentials.TransportCredentials, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts := DialOptions()
	if creds == nil {
		fromEnv, err := TLSFromEnv()
		if err != nil {
			return nil, err
		}
		if fromEnv != nil {
			if creds, err = fromEnv.Credentials(); err != nil {
				return nil, err
			}
		}
	}
	if creds == nil {
		opts = append(opts, grpc.WithInsecure())
	} else {
		opts = append(opts, grpc.WithTransportCredentials(creds))
	}
	return grpc.DialContext(ctx, Target(target), append(opts, extra...)...)
}

// NewIdempotencyKey returns a fresh random key (a UUID4). Store it with the operation it
// belongs to, so a process that restarts can retry with the same key.
func NewIdempotencyKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// WithIdempotencyKey returns a context whose calls carry key.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, IdempotencyKeyHeader, key)
}

// Replayed reports whether trailers mark an answer replayed from an idempotency record
// (pass grpc.Trailer(&md) to the call to collect them).
func Replayed(trailers metadata.MD) bool {
	for _, v := range trailers.Get(ReplayedHeader) {
		if v == "true" {
			return true
		}
	}
	return false
}

// Reason is the google.rpc.ErrorInfo reason of a failed call: the Crypto Pay error name or the
// sidecar's own (UPSTREAM_UNREACHABLE, POLICY_DENIED...); "" when there is none.
func Reason(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	for _, detail := range st.Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// MayResend reports whether a mutating call that failed with err may be sent again with the
// same idempotency key. A create (CreateInvoice, CreateCheck) only after answers that prove
// nothing happened, or that the sidecar holds the outcome under the key. A Transfer or a
// delete is repeatable (the upstream refuses a second transfer with the spend_id derived from
// the key; a delete moves no money), so also after an unknown outcome.
func MayResend(err error, repeatable bool) bool {
	reason := Reason(err)
	unknown := false
	switch reason {
	case "OUTCOME_UNKNOWN":
		return false // kept under the key: every resend gets this same answer
	case "UPSTREAM_DISCONNECTED", "UPSTREAM_TIMEOUT", "UPSTREAM_MALFORMED_RESPONSE":
		unknown = true
	}
	code := status.Code(err)
	if repeatable && (unknown || code == codes.Unavailable || code == codes.DeadlineExceeded) {
		return true
	}
	switch reason {
	case "UPSTREAM_DISCONNECTED", "UPSTREAM_TIMEOUT", "UPSTREAM_MALFORMED_RESPONSE":
		return false
	case "UPSTREAM_UNREACHABLE", "IDEMPOTENCY_KEY_IN_USE":
		return true
	}
	switch code {
	case codes.ResourceExhausted:
		return true
	case codes.Unavailable:
		return reason == ""
	}
	return false
}
