// Command createinvoice creates an invoice through cryptopay-sidecar with an idempotency key,
// resending with the same key while that is safe, and prints it.
//
//	go run ./examples/createinvoice -target 127.0.0.1:50051 -asset USDT -amount 10.5
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	cryptopayv1 "github.com/cryptopay-sidecar/cryptopay-sidecar/clients/go/cryptopay/v1"
	"github.com/cryptopay-sidecar/cryptopay-sidecar/clients/go/sidecar"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func main() {
	target := flag.String("target", "", "sidecar address (default $CRYPTOPAY_SIDECAR_TARGET or 127.0.0.1:50051)")
	asset := flag.String("asset", "USDT", "crypto asset")
	amount := flag.String("amount", "10.5", "amount as a decimal string")
	key := flag.String("key", "", "idempotency key (default: a fresh one)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := sidecar.Dial(ctx, *target, nil)
	if err != nil {
		log.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	client := cryptopayv1.NewCryptoPayServiceClient(conn)

	if *key == "" {
		*key = sidecar.NewIdempotencyKey()
	}
	request := &cryptopayv1.CreateInvoiceRequest{Asset: *asset, Amount: *amount}
	for attempt := 1; ; attempt++ {
		var trailers metadata.MD
		response, err := client.CreateInvoice(sidecar.WithIdempotencyKey(ctx, *key), request, grpc.Trailer(&trailers))
		if err == nil {
			invoice := response.GetInvoice()
			fmt.Printf("invoice_id=%d amount=%s status=%s url=%s replayed=%v attempts=%d\n",
				invoice.GetInvoiceId(), invoice.GetAmount(), invoice.GetStatus(),
				invoice.GetBotInvoiceUrl(), sidecar.Replayed(trailers), attempt)
			return
		}
		if attempt >= 5 || !sidecar.MayResend(err, false) {
			log.Fatalf("create invoice (reason %q): %v", sidecar.Reason(err), err)
		}
		time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
	}
}
