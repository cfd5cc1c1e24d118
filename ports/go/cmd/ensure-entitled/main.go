// Command ensure-entitled runs the Go port's EnsureEntitled once and exits with the marketplace-entitlement
// CLI's exit codes: 0 entitled, 64 usage, 65 invalid answer, 66 unreadable key file, 69 unavailable,
// 77 not entitled, 78 configuration. Credentials come from the AWS SDK's default chain.
//
//	ensure-entitled --product-code abc123example --public-key-file product-key.pem [--public-key-version 1]
//	                [--region eu-west-1] [--endpoint http://127.0.0.1:8443] [--tls-roots aws|system|FILE]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	entitlement "github.com/marketplace-entitlement/marketplace-entitlement/ports/go"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("ensure-entitled", flag.ContinueOnError)
	flags.SetOutput(stderr)
	productCode := flags.String("product-code", "", "product code from the AWS Marketplace Management Portal (required)")
	keyFile := flags.String("public-key-file", "", "PEM file with the public key AWS issued for the product (required)")
	keyVersion := flags.Int("public-key-version", 1, "version of that key")
	region := flags.String("region", "", "the task's or pod's Region (default: AWS_REGION, AWS_DEFAULT_REGION)")
	endpoint := flags.String("endpoint", "", "Metering endpoint override, e.g. the emulator's URL")
	tlsRoots := flags.String("tls-roots", entitlement.TLSRootsAWS, "TLS trust: aws, system, or a PEM bundle path")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return entitlement.ExitOK
		}
		return entitlement.ExitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "ensure-entitled: "+format+" (see --help)\n", a...)
		return entitlement.ExitUsage
	}
	switch {
	case flags.NArg() > 0:
		return usage("unexpected argument %q", flags.Arg(0))
	case *productCode == "":
		return usage("--product-code is required")
	case *keyFile == "":
		return usage("--public-key-file is required")
	}
	key, err := os.ReadFile(*keyFile)
	if err != nil {
		return report(stderr, &entitlement.Error{Class: entitlement.Input, Code: "PUBLIC_KEY_FILE", Err: err,
			Message: fmt.Sprintf("The public key file %s cannot be read: %v.", *keyFile, err)})
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ent, err := entitlement.EnsureEntitled(ctx, entitlement.Options{
		ProductCode:      *productCode,
		PublicKeyPEM:     key,
		PublicKeyVersion: *keyVersion,
		Region:           *region,
		Endpoint:         *endpoint,
		TLSRoots:         *tlsRoots,
		Logf:             func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) },
	})
	if err != nil {
		return report(stderr, err)
	}
	fmt.Fprintf(stdout, "entitled: product %s, key version %d, registered %s (%s), %d attempt(s), Region %s\n",
		ent.ProductCode, ent.PublicKeyVersion, ent.IssuedAt.UTC().Format(time.RFC3339), ent.IssuedAtSource, ent.Attempts, ent.Region)
	return entitlement.ExitOK
}

func report(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "ensure-entitled: %v\n", err)
	return entitlement.ExitCodeOf(err)
}
