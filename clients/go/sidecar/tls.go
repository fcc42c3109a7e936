package sidecar

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// The environment variables TLSFromEnv reads; the Python and Node clients read the same ones.
const (
	// TLSEnv turns TLS on (1, true, yes, on) with the system's trust store.
	TLSEnv = "CRYPTOPAY_SIDECAR_TLS"
	// CAFileEnv is TLSOptions.CAFile.
	CAFileEnv = "CRYPTOPAY_SIDECAR_CA_FILE"
	// ClientCertFileEnv is TLSOptions.CertFile.
	ClientCertFileEnv = "CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE"
	// ClientKeyFileEnv is TLSOptions.KeyFile.
	ClientKeyFileEnv = "CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE"
	// ServerNameEnv is TLSOptions.ServerName.
	ServerNameEnv = "CRYPTOPAY_SIDECAR_SERVER_NAME"
)

// TLSOptions reach a sidecar whose gRPC listener serves TLS (--tls-cert, --tls-key), or mTLS
// (--tls-client-ca) when a client certificate is set. The zero value is TLS verified against
// the system's trust store. TLS 1.2 is the minimum, as on the sidecar.
type TLSOptions struct {
	// CAFile is a PEM bundle of the CAs that sign the sidecar's certificate, read when the
	// credentials are built. Empty: the system's trust store.
	CAFile string
	// CertFile and KeyFile are the client's PEM certificate chain and its private key: set both
	// for mTLS, or neither. They are read again for each new connection, so a renewed
	// certificate (cert-manager, SPIRE) is presented without a restart; files that do not load
	// then leave the last pair that did in use.
	CertFile string
	KeyFile  string
	// ServerName is the name the sidecar's certificate must carry, when it is not the host of
	// the target (dialled by IP address, or through a proxy).
	ServerName string
}

// Mutual reports whether the options present a client certificate.
func (o TLSOptions) Mutual() bool {
	return o.CertFile != "" && o.KeyFile != ""
}

// Config is the client tls.Config for o. It reads the files now, so a missing file, a bundle
// with no certificate or a certificate that does not match its key is an error here, naming
// the file.
func (o TLSOptions) Config() (*tls.Config, error) {
	if (o.CertFile == "") != (o.KeyFile == "") {
		given, missing := "CertFile", "KeyFile"
		if o.CertFile == "" {
			given, missing = missing, given
		}
		return nil, fmt.Errorf("sidecar TLS: a client certificate needs both CertFile and KeyFile: %s is set, %s is not", given, missing)
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if o.CAFile != "" {
		bundle, err := readTLSFile("CAFile", o.CAFile)
		if err != nil {
			return nil, err
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(bundle) {
			return nil, fmt.Errorf("sidecar TLS: CAFile %s: no PEM certificate in it", o.CAFile)
		}
		config.RootCAs = roots
	} // else RootCAs stays nil: crypto/tls verifies against the system's trust store.
	if o.Mutual() {
		pair := &clientPair{certFile: o.CertFile, keyFile: o.KeyFile}
		if _, err := pair.load(); err != nil {
			return nil, err
		}
		config.GetClientCertificate = pair.get
	}
	return config, nil
}

// Credentials are gRPC transport credentials for o (see Config), for Dial. They are grpc-go's
// TLS credentials, with one addition: a sidecar that asks for a client certificate and refuses
// the one sent (or its absence) fails the connection with an error that says so. Under TLS 1.3
// that refusal comes after the handshake, and grpc-go would only report "connection closed".
func (o TLSOptions) Credentials() (credentials.TransportCredentials, error) {
	config, err := o.Config()
	if err != nil {
		return nil, err
	}
	return &clientCredentials{config: config, certFile: o.CertFile}, nil
}

// DialOption is grpc.WithTransportCredentials with o's credentials, to add to DialOptions
// when calling grpc.DialContext directly.
func (o TLSOptions) DialOption() (grpc.DialOption, error) {
	creds, err := o.Credentials()
	if err != nil {
		return nil, err
	}
	return grpc.WithTransportCredentials(creds), nil
}

// TLSFromEnv is the TLS the environment asks for, or nil for plaintext (the default: a sidecar
// in the same pod listens on loopback). TLS is on when $CRYPTOPAY_SIDECAR_TLS is true, or when
// a CA file, a client certificate or a server name is set ($CRYPTOPAY_SIDECAR_CA_FILE,
// _CLIENT_CERT_FILE and _CLIENT_KEY_FILE, _SERVER_NAME). The files are not read here.
func TLSFromEnv() (*TLSOptions, error) {
	o := TLSOptions{
		CAFile:     os.Getenv(CAFileEnv),
		CertFile:   os.Getenv(ClientCertFileEnv),
		KeyFile:    os.Getenv(ClientKeyFileEnv),
		ServerName: os.Getenv(ServerNameEnv),
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		given, missing := ClientCertFileEnv, ClientKeyFileEnv
		if o.CertFile == "" {
			given, missing = missing, given
		}
		return nil, fmt.Errorf("sidecar TLS: a client certificate needs both $%s and $%s: %s is set, %s is not",
			ClientCertFileEnv, ClientKeyFileEnv, given, missing)
	}
	on, err := envFlag(TLSEnv)
	if err != nil {
		return nil, err
	}
	if !on && o == (TLSOptions{}) {
		return nil, nil
	}
	return &o, nil
}

func envFlag(name string) (bool, error) {
	value := strings.ToLower(strings.TrimSpace(os.Getenv(name)))
	switch value {
	case "1", "true", "yes", "on":
		return true, nil
	case "", "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("sidecar TLS: $%s must be true or false, not %q", name, value)
}

// readTLSFile names the option and the path when the file cannot be read; the error wraps the
// cause (errors.Is(err, fs.ErrNotExist) holds for a missing file).
func readTLSFile(option, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err // the path is in the message already
		}
		return nil, fmt.Errorf("sidecar TLS: %s %s: cannot be read: %w", option, path, err)
	}
	return data, nil
}

// clientPair is the client certificate as last loaded from its files.
type clientPair struct {
	certFile, keyFile string

	mu        sync.Mutex
	certPEM   []byte
	keyPEM    []byte
	presented *tls.Certificate
}

// load reads both files, and parses them again when they changed.
func (p *clientPair) load() (*tls.Certificate, error) {
	certPEM, err := readTLSFile("CertFile", p.certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readTLSFile("KeyFile", p.keyFile)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.presented != nil && bytes.Equal(certPEM, p.certPEM) && bytes.Equal(keyPEM, p.keyPEM) {
		return p.presented, nil
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls says what is wrong without quoting the key.
		return nil, fmt.Errorf("sidecar TLS: CertFile %s and KeyFile %s are not a PEM certificate chain and its private key: %w",
			p.certFile, p.keyFile, err)
	}
	p.certPEM, p.keyPEM, p.presented = certPEM, keyPEM, &pair
	return p.presented, nil
}

// get is tls.Config.GetClientCertificate: called on each handshake that asks for a certificate.
func (p *clientPair) get(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	if pair, err := p.load(); err == nil {
		return pair, nil
	}
	// Mid-rotation or removed: the last pair that loaded (Config loaded one); the sidecar
	// refuses it once it has expired, which the caller sees as UNAVAILABLE.
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.presented, nil
}

// How long a new TLS 1.3 connection that was asked for a client certificate waits for the
// sidecar's first bytes, to tell a refused certificate (an alert, or the connection ended) from
// one accepted (the sidecar's HTTP/2 settings arrive at once). After that, gRPC takes over.
const refusalWait = time.Second

type clientCredentials struct {
	config   *tls.Config
	certFile string // "" without a client certificate
}

func (c *clientCredentials) ClientHandshake(ctx context.Context, authority string, rawConn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	var asked int32 // the server asked for a client certificate
	config := c.config.Clone()
	present := config.GetClientCertificate
	config.GetClientCertificate = func(info *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		atomic.StoreInt32(&asked, 1)
		if present != nil {
			return present(info)
		}
		return &tls.Certificate{}, nil // none: the handshake goes on without one
	}
	conn, auth, err := credentials.NewTLS(config).ClientHandshake(ctx, authority, rawConn)
	if atomic.LoadInt32(&asked) == 0 {
		return conn, auth, err
	}
	if err != nil { // TLS 1.2: the refusal is part of the handshake
		return nil, nil, c.refused(err)
	}
	info, ok := auth.(credentials.TLSInfo)
	if !ok || info.State.Version < tls.VersionTLS13 {
		return conn, auth, nil
	}
	deadline := time.Now().Add(refusalWait)
	if until, ok := ctx.Deadline(); ok && until.Before(deadline) {
		deadline = until
	}
	if err := conn.SetReadDeadline(deadline); err != nil {
		return conn, auth, nil
	}
	first := make([]byte, 4096)
	n, err := conn.Read(first)
	_ = conn.SetReadDeadline(time.Time{})
	if n > 0 {
		return &readAhead{Conn: conn, pending: first[:n]}, auth, nil
	}
	if refusal := c.refused(err); refusal != err {
		conn.Close()
		return nil, nil, refusal
	}
	// Silent (a timeout does not break a tls.Conn) or closed: gRPC finds out for itself.
	return conn, auth, nil
}

// refused is err explained when the server answered the client certificate (or its absence)
// with an alert, or by closing the connection (as gRPC's C core does); else err.
func (c *clientCredentials) refused(err error) error {
	var alert *net.OpError
	isAlert := errors.As(err, &alert) && alert.Op == "remote error"
	if !isAlert && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
		return err
	}
	if c.certFile == "" {
		return fmt.Errorf("sidecar TLS: the sidecar asked for a client certificate and ended the connection without one (%v): it requires mTLS; set CertFile and KeyFile", err)
	}
	return fmt.Errorf("sidecar TLS: the sidecar asked for a client certificate and ended the connection on the one in CertFile %s (%v): it takes certificates valid now and signed by a CA of its --tls-client-ca", c.certFile, err)
}

func (c *clientCredentials) ServerHandshake(rawConn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return credentials.NewTLS(c.config).ServerHandshake(rawConn)
}

func (c *clientCredentials) Info() credentials.ProtocolInfo {
	return credentials.NewTLS(c.config).Info()
}

func (c *clientCredentials) Clone() credentials.TransportCredentials {
	return &clientCredentials{config: c.config.Clone(), certFile: c.certFile}
}

func (c *clientCredentials) OverrideServerName(name string) error {
	c.config.ServerName = name
	return nil
}

// readAhead hands out the bytes read while waiting for a refusal before reading on.
type readAhead struct {
	net.Conn
	pending []byte
}

func (r *readAhead) Read(b []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(b, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	return r.Conn.Read(b)
}
