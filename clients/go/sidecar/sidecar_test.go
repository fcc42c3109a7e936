package sidecar

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
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

const checkoutID = "spiffe://cluster.local/ns/shop/sa/checkout"

// testCA is a certificate authority whose certificate, and what it issues, are PEM files in dir.
type testCA struct {
	dir  string
	file string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func serial(t *testing.T) *big.Int {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newCA(t *testing.T, name string) *testCA {
	dir := t.TempDir()
	key := newKey(t)
	template := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{dir: dir, file: filepath.Join(dir, name+".crt"), cert: cert, key: key}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// issue writes name.crt and name.key: a server certificate for dnsNames and 127.0.0.1, or a
// client certificate carrying the uris (SPIFFE ids) as URI SANs.
func (ca *testCA) issue(t *testing.T, name string, server bool, names ...string) (certFile, keyFile string) {
	key := newKey(t)
	template := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		template.DNSNames = names
		if len(names) == 0 {
			template.DNSNames = []string{"localhost"}
			template.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
	} else {
		for _, name := range names {
			uri, err := url.Parse(name)
			if err != nil {
				t.Fatal(err)
			}
			template.URIs = append(template.URIs, uri)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(ca.dir, name+".crt"), filepath.Join(ca.dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return certFile, keyFile
}

func (ca *testCA) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// serverConfig serves the certificate ca issues for names; mutual: requires a client
// certificate that ca signed, as the sidecar does with --tls-client-ca.
func serverConfig(t *testing.T, ca *testCA, mutual bool, names ...string) *tls.Config {
	certFile, keyFile := ca.issue(t, "server", true, names...)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	config := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if mutual {
		config.ClientAuth = tls.RequireAndVerifyClientCert
		config.ClientCAs = ca.pool()
	}
	return config
}

// serveHealth is a gRPC server over TLS; each call sends the caller's certificate URIs to
// the channel returned.
func serveHealth(t *testing.T, config *tls.Config) (port string, callers chan []string) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	callers = make(chan []string, 10)
	record := func(ctx context.Context, req interface{}, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (interface{}, error) {
		var uris []string
		if p, ok := peer.FromContext(ctx); ok {
			if info, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(info.State.PeerCertificates) > 0 {
				for _, uri := range info.State.PeerCertificates[0].URIs {
					uris = append(uris, uri.String())
				}
			}
		}
		callers <- uris
		return handler(ctx, req)
	}
	server := grpc.NewServer(grpc.Creds(credentials.NewTLS(config)), grpc.UnaryInterceptor(record))
	healthpb.RegisterHealthServer(server, health.NewServer())
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	_, port, _ = net.SplitHostPort(listener.Addr().String())
	return port, callers
}

// check calls Health/Check on target through Dial with creds (nil: from the environment).
func check(t *testing.T, target string, creds credentials.TransportCredentials) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := Dial(ctx, target, creds)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func credentialsFor(t *testing.T, o TLSOptions) credentials.TransportCredentials {
	creds, err := o.Credentials()
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func clearTLSEnv(t *testing.T) {
	for _, name := range []string{TLSEnv, CAFileEnv, ClientCertFileEnv, ClientKeyFileEnv, ServerNameEnv} {
		t.Setenv(name, "")
	}
}

func TestTLSOptionsConfig(t *testing.T) {
	ca := newCA(t, "ca")
	system, err := TLSOptions{ServerName: "sidecar.internal"}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if system.MinVersion != tls.VersionTLS12 || system.RootCAs != nil || system.ServerName != "sidecar.internal" {
		t.Errorf("system roots: min version %x, roots %v, server name %q", system.MinVersion, system.RootCAs, system.ServerName)
	}
	if system.GetClientCertificate != nil || len(system.Certificates) != 0 {
		t.Error("a client certificate without CertFile and KeyFile")
	}
	private, err := TLSOptions{CAFile: ca.file}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if private.RootCAs == nil || private.MinVersion != tls.VersionTLS12 {
		t.Errorf("CAFile: roots %v, min version %x", private.RootCAs, private.MinVersion)
	}
}

func TestTLSOptionsErrorsNameTheFiles(t *testing.T) {
	ca := newCA(t, "ca")
	certFile, keyFile := ca.issue(t, "checkout", false, checkoutID)
	_, otherKey := ca.issue(t, "other", false)
	missing := filepath.Join(t.TempDir(), "absent.pem")
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		options TLSOptions
		want    []string
	}{
		{"cert without key", TLSOptions{CertFile: certFile}, []string{"CertFile", "KeyFile", "KeyFile is not"}},
		{"key without cert", TLSOptions{KeyFile: keyFile}, []string{"CertFile", "KeyFile", "CertFile is not"}},
		{"missing CA", TLSOptions{CAFile: missing}, []string{"CAFile " + missing, "no such file"}},
		{"CA not PEM", TLSOptions{CAFile: notPEM}, []string{"CAFile " + notPEM, "no PEM certificate"}},
		{"missing cert", TLSOptions{CertFile: missing, KeyFile: keyFile}, []string{"CertFile " + missing}},
		{"missing key", TLSOptions{CertFile: certFile, KeyFile: missing}, []string{"KeyFile " + missing}},
		{"mismatched pair", TLSOptions{CertFile: certFile, KeyFile: otherKey}, []string{certFile, otherKey, "does not match"}},
	}
	for _, c := range cases {
		_, err := c.options.Credentials()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, want := range c.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q does not say %q", c.name, err, want)
			}
		}
		if strings.Contains(err.Error(), string(keyPEM[40:80])) {
			t.Errorf("%s: the error quotes the key", c.name)
		}
		if _, err := c.options.DialOption(); err == nil {
			t.Errorf("%s: DialOption has no error", c.name)
		}
	}
	_, err = TLSOptions{CAFile: missing}.Config()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file is not fs.ErrNotExist: %v", err)
	}
}

func TestTLSFromEnv(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want *TLSOptions
		err  []string
	}{
		{env: nil, want: nil},
		{env: map[string]string{TLSEnv: "false"}, want: nil},
		{env: map[string]string{TLSEnv: "0"}, want: nil},
		{env: map[string]string{TLSEnv: "1"}, want: &TLSOptions{}},
		{env: map[string]string{TLSEnv: " True "}, want: &TLSOptions{}},
		{env: map[string]string{CAFileEnv: "/ca.crt"}, want: &TLSOptions{CAFile: "/ca.crt"}},
		{env: map[string]string{ServerNameEnv: "sidecar.internal"}, want: &TLSOptions{ServerName: "sidecar.internal"}},
		{
			env:  map[string]string{TLSEnv: "true", CAFileEnv: "/ca.crt", ClientCertFileEnv: "/c.crt", ClientKeyFileEnv: "/c.key"},
			want: &TLSOptions{CAFile: "/ca.crt", CertFile: "/c.crt", KeyFile: "/c.key"},
		},
		{env: map[string]string{TLSEnv: "maybe"}, err: []string{TLSEnv, `"maybe"`}},
		{env: map[string]string{ClientCertFileEnv: "/c.crt"}, err: []string{ClientCertFileEnv, ClientKeyFileEnv, ClientKeyFileEnv + " is not"}},
		{env: map[string]string{ClientKeyFileEnv: "/c.key"}, err: []string{ClientCertFileEnv, ClientKeyFileEnv, ClientCertFileEnv + " is not"}},
	}
	for _, c := range cases {
		clearTLSEnv(t)
		for name, value := range c.env {
			t.Setenv(name, value)
		}
		got, err := TLSFromEnv()
		if c.err != nil {
			if err == nil {
				t.Errorf("%v: no error", c.env)
				continue
			}
			for _, want := range c.err {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%v: %q does not say %q", c.env, err, want)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", c.env, err)
		} else if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("%v: got %+v, want %+v", c.env, got, c.want)
		}
	}
}

func TestDialOverTLS(t *testing.T) {
	clearTLSEnv(t)
	ca, other := newCA(t, "ca"), newCA(t, "other")
	port, _ := serveHealth(t, serverConfig(t, ca, false))
	target := "localhost:" + port

	if err := check(t, target, credentialsFor(t, TLSOptions{CAFile: ca.file})); err != nil {
		t.Fatalf("TLS with the CA file: %v", err)
	}
	err := check(t, target, credentialsFor(t, TLSOptions{CAFile: other.file}))
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "x509") {
		t.Errorf("another CA: %v", err)
	}
	// Plaintext stays the default: a TLS port does not answer it.
	if err := check(t, target, nil); status.Code(err) != codes.Unavailable {
		t.Errorf("plaintext to a TLS port: %v", err)
	}
	t.Setenv(CAFileEnv, ca.file)
	if err := check(t, target, nil); err != nil {
		t.Errorf("TLS from the environment: %v", err)
	}
	t.Setenv(CAFileEnv, filepath.Join(t.TempDir(), "absent.crt"))
	if err := check(t, target, nil); err == nil || !strings.Contains(err.Error(), "absent.crt") {
		t.Errorf("a missing CA file in the environment: %v", err)
	}
}

func TestServerName(t *testing.T) {
	clearTLSEnv(t)
	ca := newCA(t, "ca")
	port, _ := serveHealth(t, serverConfig(t, ca, false, "sidecar.payments.svc"))
	byIP := "127.0.0.1:" + port
	if err := check(t, byIP, credentialsFor(t, TLSOptions{CAFile: ca.file})); status.Code(err) != codes.Unavailable {
		t.Errorf("a certificate not naming the address: %v", err)
	}
	named := TLSOptions{CAFile: ca.file, ServerName: "sidecar.payments.svc"}
	if err := check(t, byIP, credentialsFor(t, named)); err != nil {
		t.Errorf("with the server name: %v", err)
	}
}

func TestDialOverMutualTLS(t *testing.T) {
	clearTLSEnv(t)
	ca := newCA(t, "ca")
	certFile, keyFile := ca.issue(t, "checkout", false, checkoutID)
	port, callers := serveHealth(t, serverConfig(t, ca, true))
	target := "localhost:" + port

	mutual := TLSOptions{CAFile: ca.file, CertFile: certFile, KeyFile: keyFile}
	if !mutual.Mutual() || (TLSOptions{CAFile: ca.file}).Mutual() {
		t.Error("Mutual")
	}
	if err := check(t, target, credentialsFor(t, mutual)); err != nil {
		t.Fatalf("mTLS: %v", err)
	}
	if got := <-callers; len(got) != 1 || got[0] != checkoutID {
		t.Errorf("the server saw %v", got)
	}
	if err := check(t, target, credentialsFor(t, TLSOptions{CAFile: ca.file})); status.Code(err) != codes.Unavailable {
		t.Errorf("without a client certificate: %v", err)
	}
	t.Setenv(CAFileEnv, ca.file)
	t.Setenv(ClientCertFileEnv, certFile)
	t.Setenv(ClientKeyFileEnv, keyFile)
	if err := check(t, target, nil); err != nil {
		t.Errorf("mTLS from the environment: %v", err)
	}
	if got := <-callers; len(got) != 1 || got[0] != checkoutID {
		t.Errorf("the server saw %v", got)
	}
}

// handshakeAs connects with config and returns the common name the server saw.
func handshakeAs(t *testing.T, listener net.Listener, config *tls.Config) string {
	seen := make(chan string, 1)
	go func() {
		conn, err := listener.Accept()
		if err != nil {
			seen <- err.Error()
			return
		}
		defer conn.Close()
		server := conn.(*tls.Conn)
		if err := server.Handshake(); err != nil {
			seen <- err.Error()
			return
		}
		seen <- server.ConnectionState().PeerCertificates[0].Subject.CommonName
	}()
	conn, err := tls.Dial("tcp", listener.Addr().String(), config)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return <-seen
}

func TestRenewedClientCertificateOnNewConnections(t *testing.T) {
	ca := newCA(t, "ca")
	first, firstKey := ca.issue(t, "first", false, checkoutID)
	second, secondKey := ca.issue(t, "second", false, checkoutID)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	install := func(cert, key string) {
		for from, to := range map[string]string{cert: certFile, key: keyFile} {
			data, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(first, firstKey)
	config, err := TLSOptions{CAFile: ca.file, CertFile: certFile, KeyFile: keyFile}.Config()
	if err != nil {
		t.Fatal(err)
	}
	listener, err := tls.Listen("tcp", "127.0.0.1:0", serverConfig(t, ca, true))
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()

	if got := handshakeAs(t, listener, config); got != "first" {
		t.Fatalf("presented %q", got)
	}
	install(second, secondKey)
	if got := handshakeAs(t, listener, config); got != "second" {
		t.Errorf("after renewal, presented %q", got)
	}
	// A key that does not match (a rotation half done): the last pair that loaded.
	install(second, firstKey)
	if got := handshakeAs(t, listener, config); got != "second" {
		t.Errorf("with a mismatched pair, presented %q", got)
	}
}

func TestTLSBelow12IsRefused(t *testing.T) {
	ca := newCA(t, "ca")
	old := serverConfig(t, ca, false)
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	listener, err := tls.Listen("tcp", "127.0.0.1:0", old)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	go func() {
		if conn, err := listener.Accept(); err == nil {
			_ = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	config, err := TLSOptions{CAFile: ca.file}.Config()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", listener.Addr().String(), config)
	if err == nil {
		conn.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
	if !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.1: %v", err)
	}
}

func TestRefusedClientCertificateIsExplained(t *testing.T) {
	clearTLSEnv(t)
	ca, other := newCA(t, "ca"), newCA(t, "other")
	foreignCert, foreignKey := other.issue(t, "foreign", false, checkoutID)
	port, _ := serveHealth(t, serverConfig(t, ca, true))
	target := "localhost:" + port

	err := check(t, target, credentialsFor(t, TLSOptions{CAFile: ca.file}))
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "without one") ||
		!strings.Contains(err.Error(), "set CertFile and KeyFile") {
		t.Errorf("without a client certificate: %v", err)
	}
	foreign := TLSOptions{CAFile: ca.file, CertFile: foreignCert, KeyFile: foreignKey}
	err = check(t, target, credentialsFor(t, foreign))
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "on the one in CertFile "+foreignCert) {
		t.Errorf("a certificate from another CA: %v", err)
	}
}

// askingServer asks for a client certificate (mutual: requires one of ca's), then does what
// then says with the connection; maxVersion 0 is TLS 1.3.
func askingServer(t *testing.T, ca *testCA, mutual bool, maxVersion uint16, then func(*tls.Conn)) string {
	config := serverConfig(t, ca, mutual)
	config.MaxVersion = maxVersion
	if !mutual {
		config.ClientAuth = tls.RequestClientCert
	}
	listener, err := tls.Listen("tcp", "127.0.0.1:0", config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { listener.Close() })
	go func() {
		conn, err := listener.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		if conn.(*tls.Conn).Handshake() == nil {
			then(conn.(*tls.Conn))
		}
	}()
	return listener.Addr().String()
}

// handshake runs the credentials' client handshake over a new connection to address.
func handshake(t *testing.T, ctx context.Context, o TLSOptions, address string) (net.Conn, error) {
	raw, err := net.Dial("tcp", address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	conn, _, err := credentialsFor(t, o).ClientHandshake(ctx, "localhost:1", raw)
	return conn, err
}

func TestConnectionEndedAfterTheCertificateRequestIsExplained(t *testing.T) {
	ca := newCA(t, "ca")
	certFile, keyFile := ca.issue(t, "checkout", false, checkoutID)
	ctx := context.Background()
	// gRPC's C core ends the connection without an alert.
	closes := askingServer(t, ca, false, 0, func(*tls.Conn) {})
	_, err := handshake(t, ctx, TLSOptions{CAFile: ca.file}, closes)
	if err == nil || !strings.Contains(err.Error(), "ended the connection without one") {
		t.Errorf("closed after the handshake: %v", err)
	}
	closes = askingServer(t, ca, false, 0, func(*tls.Conn) {})
	_, err = handshake(t, ctx, TLSOptions{CAFile: ca.file, CertFile: certFile, KeyFile: keyFile}, closes)
	if err == nil || !strings.Contains(err.Error(), "on the one in CertFile "+certFile) {
		t.Errorf("closed after the handshake, with a certificate: %v", err)
	}
	// TLS 1.2: the refusal is part of the handshake.
	refuses12 := askingServer(t, ca, true, tls.VersionTLS12, func(*tls.Conn) {})
	_, err = handshake(t, ctx, TLSOptions{CAFile: ca.file}, refuses12)
	if err == nil || !strings.Contains(err.Error(), "without one") || !strings.Contains(err.Error(), "remote error") {
		t.Errorf("TLS 1.2: %v", err)
	}
}

func TestBytesReadWhileWaitingAreKept(t *testing.T) {
	ca := newCA(t, "ca")
	greets := askingServer(t, ca, false, 0, func(conn *tls.Conn) {
		_, _ = conn.Write([]byte("settings"))
		_, _ = conn.Read(make([]byte, 1)) // until the client closes
	})
	conn, err := handshake(t, context.Background(), TLSOptions{CAFile: ca.file}, greets)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 3)
	var read []byte
	for len(read) < len("settings") {
		n, err := conn.Read(got)
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, got[:n]...)
	}
	if string(read) != "settings" {
		t.Errorf("read %q", read)
	}

	silent := askingServer(t, ca, false, 0, func(conn *tls.Conn) {
		time.Sleep(500 * time.Millisecond)
		_, _ = conn.Write([]byte("late"))
		_, _ = conn.Read(make([]byte, 1))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	started := time.Now()
	conn, err = handshake(t, ctx, TLSOptions{CAFile: ca.file}, silent)
	if err != nil {
		t.Fatalf("a silent server: %v", err)
	}
	if waited := time.Since(started); waited > 450*time.Millisecond {
		t.Errorf("waited %v past the context's deadline", waited)
	}
	n, err := conn.Read(got[:3])
	if err != nil || string(got[:n]) != "lat" {
		t.Errorf("after the wait: %q %v", got[:n], err)
	}
}
