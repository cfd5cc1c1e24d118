package entitlement

import (
	"crypto/tls"
	"crypto/x509"
	_ "embed" // the Amazon roots below
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"time"
)

// amazonRootsPEM holds Amazon Root CA 1 to 4 and Starfield Services Root Certificate Authority - G2, the roots
// AWS endpoints chain to, copied from Node's bundled root store (test/vectors/amazon-roots.json; the tests
// check the copy).
//
//go:embed amazon-roots.pem
var amazonRootsPEM []byte

// The choices of Options.TLSRoots besides a PEM bundle path, as the TypeScript library's tlsRoots option.
const (
	// TLSRootsAWS trusts only Amazon's roots (the default): a TLS-intercepting proxy or a CA a buyer added to
	// the image cannot terminate the RegisterUsage connection.
	TLSRootsAWS = "aws"
	// TLSRootsSystem trusts the operating system's roots.
	TLSRootsSystem = "system"
)

// rootPool is the certificate pool for a TLSRoots choice; nil means the system's.
func rootPool(choice string) (*x509.CertPool, error) {
	switch choice {
	case "", TLSRootsAWS:
		return certificatePool(amazonRootsPEM, "the embedded Amazon roots")
	case TLSRootsSystem:
		return nil, nil
	default:
		bundle, err := os.ReadFile(choice)
		if err != nil {
			return nil, configurationError("INVALID_TLS_ROOTS",
				"TLSRoots is neither %q, %q nor a readable PEM bundle: %v.", TLSRootsAWS, TLSRootsSystem, err)
		}
		return certificatePool(bundle, choice)
	}
}

// certificatePool requires every PEM block to be a certificate, and at least one.
func certificatePool(bundle []byte, source string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	count := 0
	for rest := bundle; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		certificate, err := x509.ParseCertificate(block.Bytes)
		if block.Type != "CERTIFICATE" || err != nil {
			return nil, configurationError("INVALID_TLS_ROOTS", "The TLS root bundle %s holds a %q block that is not a certificate.", source, block.Type)
		}
		pool.AddCert(certificate)
		count++
	}
	if count == 0 {
		return nil, configurationError("INVALID_TLS_ROOTS", "The TLS root bundle %s holds no PEM certificate.", source)
	}
	return pool, nil
}

// pinnedClient is the HTTP client of every AWS call. It is deliberately not the SDK's BuildableClient: the
// SDK would add the certificates AWS_CA_BUNDLE (or a profile's ca_bundle) names to it, so an environment
// variable would widen the trust this option pins. With it, such a setting fails the configuration instead.
type pinnedClient struct{ http *http.Client }

func (c pinnedClient) Do(request *http.Request) (*http.Response, error) { return c.http.Do(request) }

func newPinnedClient(roots *x509.CertPool, requestTimeout time.Duration) pinnedClient {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = http.ProxyFromEnvironment
	transport.DialContext = (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return pinnedClient{http: &http.Client{Transport: transport, Timeout: requestTimeout}}
}
