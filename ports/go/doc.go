// Package entitlement is the Go port of marketplace-entitlement's ensureEntitled: the AWS Marketplace
// entitlement check for paid container products (hourly pricing), made and verified inside the seller's own
// process.
//
// EnsureEntitled calls RegisterUsage through the AWS SDK for Go v2 with a fresh 256-bit nonce from the CSPRNG,
// over TLS that trusts only Amazon's root certificates unless told otherwise, retries throttling and
// failures with jittered backoff (RetryPolicy) for up to 30 minutes, and verifies the signed answer exactly as the
// TypeScript library does: PS256 only (RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt), canonical base64url,
// and the nonce, product code and key version that were sent found again in the signed claims. Every failure
// is an *Error with the TypeScript library's stable code and the CLI's exit code.
//
//	ent, err := entitlement.EnsureEntitled(ctx, entitlement.Options{
//		ProductCode:  "abc123example",
//		PublicKeyPEM: []byte(os.Getenv("PRODUCT_PUBLIC_KEY")),
//	})
//	if err != nil {
//		log.Print(err)
//		os.Exit(entitlement.ExitCodeOf(err))
//	}
//
// The conformance vectors in test/vectors/ (generated from the TypeScript implementation) are run by this
// package's tests.
package entitlement
