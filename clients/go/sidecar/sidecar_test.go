package sidecar

import (
	"regexp"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func failure(t *testing.T, code codes.Code, reason string) error {
	st := status.New(code, "scripted")
	if reason == "" {
		return st.Err()
	}
	withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return withInfo.Err()
}

func TestMayResend(t *testing.T) {
	cases := []struct {
		code   codes.Code
		reason string
		want   bool
	}{
		{codes.Unavailable, "", true},
		{codes.Unavailable, "UPSTREAM_UNREACHABLE", true},
		{codes.Unavailable, "UPSTREAM_DISCONNECTED", false},
		{codes.Unavailable, "OUTCOME_UNKNOWN", false},
		{codes.Unavailable, "APP_ERROR", false},
		{codes.DeadlineExceeded, "", false},
		{codes.ResourceExhausted, "", true},
		{codes.Aborted, "IDEMPOTENCY_KEY_IN_USE", true},
		{codes.Aborted, "", false},
		{codes.InvalidArgument, "IDEMPOTENCY_KEY_REUSED", false},
		{codes.FailedPrecondition, "INSUFFICIENT_FUNDS", false},
	}
	for _, c := range cases {
		if got := MayResend(failure(t, c.code, c.reason), false); got != c.want {
			t.Errorf("MayResend(%v, %q) = %v, want %v", c.code, c.reason, got, c.want)
		}
	}
	repeatable := []struct {
		code   codes.Code
		reason string
		want   bool
	}{
		{codes.Unavailable, "UPSTREAM_DISCONNECTED", true},
		{codes.DeadlineExceeded, "UPSTREAM_TIMEOUT", true},
		{codes.Internal, "UPSTREAM_MALFORMED_RESPONSE", true},
		{codes.Unavailable, "OUTCOME_UNKNOWN", false},
		{codes.FailedPrecondition, "SPEND_ID_ALREADY_USED", false},
	}
	for _, c := range repeatable {
		if got := MayResend(failure(t, c.code, c.reason), true); got != c.want {
			t.Errorf("MayResend(%v, %q, repeatable) = %v, want %v", c.code, c.reason, got, c.want)
		}
	}
}

func TestNewIdempotencyKey(t *testing.T) {
	uuid4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewIdempotencyKey(), NewIdempotencyKey()
	if a == b || !uuid4.MatchString(a) {
		t.Fatalf("keys %q %q", a, b)
	}
}
