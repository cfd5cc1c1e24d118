package entitlement

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"regexp"
	"strings"
)

// AWSDocPlaceholderKeySHA256 is the SHA-256 of the SPKI DER of the placeholder key printed in AWS's
// RegisterUsage documentation. Its private key is published, so it is refused as a trust anchor.
const AWSDocPlaceholderKeySHA256 = "d2f8d7917928bbe7a457bdbaa0f69221a49b0fbc867ea34b700e9e78364d57e8"

// placeholderRSAPublicKeySHA256 is the SHA-256 of the placeholder's PKCS#1 RSAPublicKey (modulus and exponent):
// it recognises the placeholder whatever algorithm identifier or PEM label it comes with.
const placeholderRSAPublicKeySHA256 = "411c4f74ea279a981238973c708a245cdb0c8951ede91521d1a034918253619c"

// Key size limits: below 2048 bits RSA offers no real assurance; larger than 16384 bits only costs time.
const (
	MinRSABits = 2048
	MaxRSABits = 16384
)

// RSAPublicExponent is the only exponent accepted: e = 1 makes any "signature" verify, small ones invite forgery.
const RSAPublicExponent = 65537

var (
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSASSAPSS     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

// ProductKey is a vetted RegisterUsage trust anchor: the RSA public key AWS Marketplace issued for a product
// and key version.
type ProductKey struct {
	public *rsa.PublicKey
	// ps256 is false for an RSA-PSS key whose parameters forbid PS256 (another hash, a longer minimum salt):
	// such a key verifies nothing, as in the TypeScript library.
	ps256 bool
}

// Bits is the modulus length.
func (k *ProductKey) Bits() int { return k.public.N.BitLen() }

// Fingerprint is the SHA-256 (hex) of the key's SPKI DER (rsaEncryption): the TypeScript publicKeyFingerprint.
func (k *ProductKey) Fingerprint() string {
	der, err := x509.MarshalPKIXPublicKey(k.public)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// jsWhitespace is JavaScript's \s (and what String.prototype.trim removes), so that a PEM is judged as the
// TypeScript library judges it.
const jsWhitespace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

var (
	pemLabel   = regexp.MustCompile(`-----BEGIN ([A-Z0-9 ]+)-----`)
	spkiBlock  = regexp.MustCompile(`^[` + jsWhitespace + `]*-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=` + jsWhitespace + `]*-----END PUBLIC KEY-----[` + jsWhitespace + `]*$`)
	pkcs1Block = regexp.MustCompile(`^[` + jsWhitespace + `]*-----BEGIN RSA PUBLIC KEY-----[A-Za-z0-9+/=` + jsWhitespace + `]*-----END RSA PUBLIC KEY-----[` + jsWhitespace + `]*$`)
)

// surroundingTrim is the same set as a cutset for strings.Trim (JavaScript's trim, which the TypeScript library
// applies before parsing).
const surroundingTrim = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

// LoadProductPublicKey parses a PEM public key ("PUBLIC KEY" SPKI or "RSA PUBLIC KEY" PKCS#1) and checks that it
// can be a RegisterUsage trust anchor: exactly one PEM block and nothing else, neither a certificate nor a
// private key, an RSA key with exponent 65537 of 2048 to 16384 bits, and not AWS's documentation placeholder.
// It fails with a Configuration *Error: MISSING_PUBLIC_KEY, INVALID_PUBLIC_KEY or REFUSED_PUBLIC_KEY.
func LoadProductPublicKey(pemText []byte) (*ProductKey, error) {
	if len(pemText) == 0 {
		return nil, configurationError("MISSING_PUBLIC_KEY",
			"No product public key given. There is no global AWS key: pass the RSA public key AWS Marketplace issued for "+
				"this product and key version (Management Portal) as PublicKeyPEM / --public-key-file.")
	}
	text := string(pemText)
	if err := checkSinglePublicKeyPEM(text); err != nil {
		return nil, err
	}
	block, rest := pem.Decode([]byte(strings.Trim(text, surroundingTrim)))
	if block == nil || len(bytes.TrimSpace(rest)) != 0 {
		return nil, unparsable("not a PEM block")
	}
	var (
		rsaPublicKey []byte
		ps256        = true
	)
	if block.Type == "RSA PUBLIC KEY" {
		rsaPublicKey = block.Bytes
	} else {
		var spki struct {
			Algorithm pkix.AlgorithmIdentifier
			PublicKey asn1.BitString
		}
		if rest, err := asn1.Unmarshal(block.Bytes, &spki); err != nil || len(rest) != 0 {
			return nil, unparsable("not a SubjectPublicKeyInfo")
		}
		switch {
		case spki.Algorithm.Algorithm.Equal(oidRSAEncryption):
		case spki.Algorithm.Algorithm.Equal(oidRSASSAPSS):
			allowed, err := pssParametersAllowPS256(spki.Algorithm.Parameters)
			if err != nil {
				return nil, unparsable("RSASSA-PSS parameters")
			}
			ps256 = allowed
		default:
			return nil, configurationError("INVALID_PUBLIC_KEY",
				"The product public key is not an RSA key (algorithm %s); RegisterUsage signatures are PS256, so it must be "+
					"the RSA public key AWS Marketplace issued for this product (Management Portal, product page, \"public key\").",
				spki.Algorithm.Algorithm)
		}
		if spki.PublicKey.BitLength%8 != 0 {
			return nil, unparsable("a public key bit string of whole bytes")
		}
		rsaPublicKey = spki.PublicKey.Bytes
	}
	var numbers struct{ N, E *big.Int }
	if rest, err := asn1.Unmarshal(rsaPublicKey, &numbers); err != nil || len(rest) != 0 || numbers.N.Sign() <= 0 || numbers.E.Sign() <= 0 {
		return nil, unparsable("an RSAPublicKey (modulus, exponent)")
	}
	if !numbers.E.IsInt64() || numbers.E.Int64() != RSAPublicExponent {
		return nil, configurationError("INVALID_PUBLIC_KEY",
			"The product public key has public exponent %s; only %d is accepted (with e = 1 anyone could forge a signature). "+
				"Use the public key AWS Marketplace issued for your product.", numbers.E, RSAPublicExponent)
	}
	key := &ProductKey{public: &rsa.PublicKey{N: numbers.N, E: RSAPublicExponent}, ps256: ps256}
	// The canonical DER of (modulus, exponent), however the input spelled them.
	sum := sha256.Sum256(x509.MarshalPKCS1PublicKey(key.public))
	if hex.EncodeToString(sum[:]) == placeholderRSAPublicKeySHA256 {
		return nil, configurationError("REFUSED_PUBLIC_KEY",
			"The product public key is the placeholder printed in AWS documentation (\"Replace with your public key\"). "+
				"Its private key is published, so anyone could forge an entitlement under it. Use the public key AWS "+
				"Marketplace issued for your product and key version (AWS Marketplace Management Portal).")
	}
	if bits := key.Bits(); bits < MinRSABits || bits > MaxRSABits {
		return nil, configurationError("INVALID_PUBLIC_KEY",
			"The product public key is RSA-%d; %d to %d bits are required. "+
				"Use the public key AWS Marketplace issued for your product (the ones seen in production are 3072-bit).",
			bits, MinRSABits, MaxRSABits)
	}
	return key, nil
}

func unparsable(what string) *Error {
	return configurationError("INVALID_PUBLIC_KEY",
		"The product public key could not be parsed (expected %s): expected a PEM block \"-----BEGIN PUBLIC KEY-----\" (SPKI) "+
			"or \"-----BEGIN RSA PUBLIC KEY-----\".", what)
}

// checkSinglePublicKeyPEM requires exactly one public key PEM block and nothing else but whitespace: with
// several, which one a parser uses is an accident.
func checkSinglePublicKeyPEM(text string) error {
	var labels []string
	for _, match := range pemLabel.FindAllStringSubmatch(text, -1) {
		labels = append(labels, match[1])
	}
	for _, label := range labels {
		if strings.Contains(label, "PRIVATE KEY") {
			return configurationError("INVALID_PUBLIC_KEY",
				"A private key was given where the product public key belongs. Pass the PUBLIC key AWS Marketplace issued "+
					"(-----BEGIN PUBLIC KEY-----), and keep private keys out of configuration.")
		}
	}
	for _, label := range labels {
		if strings.Contains(label, "CERTIFICATE") {
			return configurationError("INVALID_PUBLIC_KEY",
				"A certificate was given where the product public key belongs. AWS Marketplace issues a bare RSA public key "+
					"(-----BEGIN PUBLIC KEY-----), not a certificate: pass that key from the Management Portal.")
		}
	}
	if len(labels) != 1 || !(spkiBlock.MatchString(text) || pkcs1Block.MatchString(text)) {
		found := "none"
		if len(labels) > 0 {
			found = `"` + strings.Join(labels, `", "`) + `"`
			if len(labels) == 1 {
				found += " with other text"
			}
		}
		return configurationError("INVALID_PUBLIC_KEY",
			"The product public key must be exactly one PEM block \"-----BEGIN PUBLIC KEY-----\" with nothing else around it; "+
				"found %s. Keep only the key AWS Marketplace issued for this product.", found)
	}
	return nil
}

// pssParametersAllowPS256 reads the RSASSA-PSS-params of an RSA-PSS key (RFC 4055): absent parameters leave the
// key unrestricted; present ones restrict it to their hash, mask hash and minimum salt length (defaults SHA-1,
// MGF1-SHA-1, 20), as OpenSSL enforces them.
func pssParametersAllowPS256(raw asn1.RawValue) (bool, error) {
	if len(raw.FullBytes) == 0 {
		return true, nil
	}
	var params struct {
		Hash       pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:0"`
		MGF        pkix.AlgorithmIdentifier `asn1:"optional,explicit,tag:1"`
		SaltLength int                      `asn1:"optional,explicit,tag:2,default:20"`
		Trailer    int                      `asn1:"optional,explicit,tag:3,default:1"`
	}
	if rest, err := asn1.Unmarshal(raw.FullBytes, &params); err != nil || len(rest) != 0 {
		return false, errInvalidPSSParameters
	}
	hash := oidSHA1
	if len(params.Hash.Algorithm) > 0 {
		hash = params.Hash.Algorithm
	}
	mgfHash := oidSHA1
	if len(params.MGF.Algorithm) > 0 {
		if !params.MGF.Algorithm.Equal(oidMGF1) {
			return false, nil
		}
		var inner pkix.AlgorithmIdentifier
		if _, err := asn1.Unmarshal(params.MGF.Parameters.FullBytes, &inner); err != nil {
			return false, errInvalidPSSParameters
		}
		mgfHash = inner.Algorithm
	}
	return hash.Equal(oidSHA256) && mgfHash.Equal(oidSHA256) && params.SaltLength <= 32 && params.Trailer == 1, nil
}

var errInvalidPSSParameters = errors.New("invalid RSASSA-PSS parameters")
