package entitlement_test

import (
	"context"
	"log"
	"os"

	entitlement "github.com/marketplace-entitlement/marketplace-entitlement/ports/go"
)

// The code of README.md's "In your main", compiled by go vet and go test (not run: it calls AWS). In a real
// program productKey is embedded with //go:embed product-key.pem.
func ExampleEnsureEntitled() {
	var productKey []byte
	ent, err := entitlement.EnsureEntitled(context.Background(), entitlement.Options{
		ProductCode:  "abc123example", // yours, from the Management Portal
		PublicKeyPEM: productKey,
	})
	if err != nil {
		log.Print(err) // e.g. "NotEntitledError CUSTOMER_NOT_ENTITLED: ..."
		os.Exit(entitlement.ExitCodeOf(err))
	}
	log.Printf("entitled, registered at %s", ent.IssuedAt)
	// ... start serving
}
