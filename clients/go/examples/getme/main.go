// Command getme calls GetMe through cryptopay-sidecar, over TLS or mTLS when asked, and prints
// the app it answers for. Without TLS flags, the CRYPTOPAY_SIDECAR_* environment decides.
//
//	go run ./examples/getme -target payments-cryptopay-sidecar.payments.svc:50051 \
//	    -ca-file ca.crt -cert-file checkout.crt -key-file checkout.key
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	cryptopayv1 "github.com/cryptopay-sidecar/cryptopay-sidecar/clients/go/cryptopay/v1"
	"github.com/cryptopay-sidecar/cryptopay-sidecar/clients/go/sidecar"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

func main() {
	target := flag.String("target", "", "sidecar address (default $CRYPTOPAY_SIDECAR_TARGET or 127.0.0.1:50051)")
	var options sidecar.TLSOptions
	useTLS := flag.Bool("tls", false, "TLS, verified against the system's trust store unless -ca-file is given")
	flag.StringVar(&options.CAFile, "ca-file", "", "PEM bundle of the CAs that sign the sidecar's certificate")
	flag.StringVar(&options.CertFile, "cert-file", "", "client certificate (PEM), for mTLS")
	flag.StringVar(&options.KeyFile, "key-file", "", "the client certificate's private key (PEM)")
	flag.StringVar(&options.ServerName, "server-name", "", "the name the sidecar's certificate must carry, if not the target's host")
	flag.Parse()

	var creds credentials.TransportCredentials // nil: as the environment says
	if *useTLS || options != (sidecar.TLSOptions{}) {
		var err error
		if creds, err = options.Credentials(); err != nil {
			fail(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := sidecar.Dial(ctx, *target, creds)
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	me, err := cryptopayv1.NewCryptoPayServiceClient(conn).GetMe(ctx, &cryptopayv1.GetMeRequest{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "GetMe failed: code=%s reason=%s: %s\n",
			status.Code(err), sidecar.Reason(err), status.Convert(err).Message())
		os.Exit(1)
	}
	fmt.Printf("app_id=%d name=%s\n", me.GetApp().GetAppId(), me.GetApp().GetName())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(2)
}
