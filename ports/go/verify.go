package entitlement

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Plausible bounds of a NumericDate iat in seconds (2016-01-01, the Metering API's release, to 2100-01-01):
// outside them (milliseconds, for instance) iat is treated as absent.
const (
	PlausibleIatMinSec = 1_451_606_400
	PlausibleIatMaxSec = 4_102_444_800
)

// ps256SaltLength is pinned: RFC 7518 section 3.5 makes the salt as long as the SHA-256 hash.
const ps256SaltLength = 32

// VerifyOptions are the values sent with RegisterUsage, which the signed answer must carry back.
type VerifyOptions struct {
	Key              *ProductKey
	ProductCode      string
	PublicKeyVersion int
	Nonce            string
	// ClockTolerance, when set, refuses an iat further ahead of Now (IAT_IN_FUTURE). Default: not checked.
	ClockTolerance *time.Duration
	// MaxTokenAge, when set, refuses an iat older than this before Now (TOKEN_TOO_OLD). Default: not checked.
	MaxTokenAge *time.Duration
	// Now is the moment the token is judged at. Default: the current time.
	Now time.Time
}

// IssuedAtSource says where Claims.IssuedAt came from.
type IssuedAtSource string

// The two sources of IssuedAt.
const (
	// FromToken: the token's iat.
	FromToken IssuedAtSource = "token"
	// FromReceipt: the local time the answer was judged (the token had no plausible iat).
	FromReceipt IssuedAtSource = "received"
)

// Claims is the verified content of a RegisterUsage token.
type Claims struct {
	ProductCode      string
	PublicKeyVersion int
	Nonce            string
	IssuedAt         time.Time
	IssuedAtSource   IssuedAtSource
	// ClockSkewSec is iat minus the local clock, rounded, when IssuedAtSource is FromToken.
	ClockSkewSec int64
	// Payload is the decoded payload as AWS sent it (numbers as json.Number).
	Payload map[string]any
}

var segmentPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// canonicalSegment decodes unpadded base64url that re-encodes to itself. Decoders ignore the spare low bits of
// a last character, so without the check one token could be spelled several ways.
func canonicalSegment(segment string) ([]byte, bool) {
	if !segmentPattern.MatchString(segment) {
		return nil, false
	}
	decoded, err := base64.RawURLEncoding.DecodeString(segment)
	if err != nil || base64.RawURLEncoding.EncodeToString(decoded) != segment {
		return nil, false
	}
	return decoded, true
}

// VerifyRegistration checks a RegisterUsage Signature and returns its claims, or a Verification *Error whose
// Code names the failed check (TOKEN_MALFORMED, ALGORITHM_NOT_ALLOWED, SIGNATURE_INVALID, NONCE_MISMATCH,
// PRODUCT_CODE_MISMATCH, PUBLIC_KEY_VERSION_MISMATCH, IAT_MISSING, IAT_IN_FUTURE, TOKEN_TOO_OLD). The checks and
// their order are those of src/registration/verify.ts: the algorithm first (so alg none is reported as such),
// then canonical segments, the PS256 signature, and the claims that were sent.
func VerifyRegistration(token string, opts VerifyOptions) (*Claims, error) {
	if opts.Key == nil {
		return nil, configurationError("MISSING_PUBLIC_KEY", "VerifyOptions.Key is nil: load the product key with LoadProductPublicKey.")
	}
	if err := checkDurations(opts.ClockTolerance, opts.MaxTokenAge); err != nil {
		return nil, err
	}
	malformed := verificationError("TOKEN_MALFORMED",
		"The RegisterUsage signature is not a compact JWT (three non-empty unpadded base64url segments).")
	segments := strings.Split(token, ".")
	if len(segments) != 3 {
		return nil, malformed
	}
	headerBytes, ok := canonicalSegment(segments[0])
	if !ok {
		return nil, malformed
	}
	header, err := decodeObject(headerBytes, "header")
	if err != nil {
		return nil, err
	}
	if alg, ok := header["alg"].(string); !ok || alg != "PS256" {
		return nil, verificationError("ALGORITHM_NOT_ALLOWED",
			"The RegisterUsage token uses alg %s; only PS256 is accepted.", jsonText(header["alg"]))
	}
	// AWS sends no crit; with crit b64:false the signed payload would be the raw segment, not the JSON read here.
	if _, present := header["crit"]; present {
		return nil, verificationError("TOKEN_MALFORMED", "The RegisterUsage token header has a crit member; AWS sends none.")
	}
	payloadBytes, ok := canonicalSegment(segments[1])
	if !ok {
		return nil, malformed
	}
	signature, ok := canonicalSegment(segments[2])
	if !ok {
		return nil, malformed
	}
	signingInput := token[:len(segments[0])+1+len(segments[1])]
	if !ps256Verifies([]byte(signingInput), signature, opts.Key) {
		return nil, verificationError("SIGNATURE_INVALID",
			"The RegisterUsage token signature does not verify under the configured public key. Check that the key is "+
				"the one AWS issued for this product and that the public key version matches it; otherwise the answer was forged.")
	}
	payload, err := decodeObject(payloadBytes, "payload")
	if err != nil {
		return nil, err
	}
	if err := expectClaim(payload, "nonce", "Nonce", "NONCE_MISMATCH", "nonce", func(v any) bool { return v == opts.Nonce }, opts.Nonce); err != nil {
		return nil, err
	}
	if err := expectClaim(payload, "productCode", "ProductCode", "PRODUCT_CODE_MISMATCH", "product code", func(v any) bool { return v == opts.ProductCode }, opts.ProductCode); err != nil {
		return nil, err
	}
	version := float64(opts.PublicKeyVersion)
	if err := expectClaim(payload, "publicKeyVersion", "PublicKeyVersion", "PUBLIC_KEY_VERSION_MISMATCH", "public key version", func(v any) bool {
		n, ok := versionNumber(v)
		return ok && n == version
	}, opts.PublicKeyVersion); err != nil {
		return nil, err
	}
	claims := &Claims{ProductCode: opts.ProductCode, PublicKeyVersion: opts.PublicKeyVersion, Nonce: opts.Nonce, Payload: payload}
	if err := checkIssuedAt(claims, payload["iat"], opts); err != nil {
		return nil, err
	}
	return claims, nil
}

// ps256Verifies reports whether signature is a PS256 signature of input under key: RSASSA-PSS with SHA-256,
// MGF1-SHA-256 and a 32-byte salt, a signature exactly as long as the modulus and smaller than it (Go 1.19
// reduces a larger one modulo n, which would let two signatures pass for one).
func ps256Verifies(input, signature []byte, key *ProductKey) bool {
	public := key.public
	if !key.ps256 || len(signature) != public.Size() || new(big.Int).SetBytes(signature).Cmp(public.N) >= 0 {
		return false
	}
	digest := sha256.Sum256(input)
	return rsa.VerifyPSS(public, crypto.SHA256, digest[:], signature, &rsa.PSSOptions{SaltLength: ps256SaltLength, Hash: crypto.SHA256}) == nil
}

// decodeObject parses a segment as a JSON object, as JSON.parse would (numbers kept exact as json.Number).
func decodeObject(segment []byte, part string) (map[string]any, error) {
	// json.Valid refuses trailing data, which a Decoder alone would leave unread.
	decoder := json.NewDecoder(bytes.NewReader(segment))
	decoder.UseNumber()
	var value any
	if !json.Valid(segment) || decoder.Decode(&value) != nil {
		return nil, verificationError("TOKEN_MALFORMED", "The RegisterUsage token %s is not valid JSON.", part)
	}
	object, ok := value.(map[string]any)
	if !ok {
		return nil, verificationError("TOKEN_MALFORMED", "The RegisterUsage token %s is not a JSON object.", part)
	}
	return object, nil
}

// expectClaim requires at least one of the two spellings and every spelling present to match.
func expectClaim(payload map[string]any, camel, pascal, code, label string, matches func(any) bool, sent any) error {
	found := false
	for _, name := range []string{camel, pascal} {
		value, present := payload[name]
		if !present {
			continue
		}
		found = true
		if !matches(value) {
			return verificationError(code, "The RegisterUsage token's %s is %s, but %s was sent.", name, jsonText(value), jsonText(sent))
		}
	}
	if !found {
		return verificationError(code, "The RegisterUsage token has no %s claim (%s or %s).", label, camel, pascal)
	}
	return nil
}

var digitsOnly = regexp.MustCompile(`^[0-9]+$`)

// versionNumber is a key version claim as a number: a JSON number, or a string of digits (as TypeScript's
// Number() reads it); anything else is no number.
func versionNumber(value any) (float64, bool) {
	switch v := value.(type) {
	case json.Number:
		return jsNumber(string(v))
	case string:
		if digitsOnly.MatchString(v) {
			return jsNumber(v)
		}
	}
	return 0, false
}

// jsNumber parses a decimal as JavaScript does: out of range is ±Infinity, not an error.
func jsNumber(text string) (float64, bool) {
	n, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(n, 0) {
		return 0, false
	}
	return n, true
}

func checkIssuedAt(claims *Claims, iat any, opts VerifyOptions) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	nowSec := float64(now.UnixNano()) / 1e9
	iatSec, plausible := plausibleIat(iat)
	if !plausible {
		if opts.ClockTolerance != nil || opts.MaxTokenAge != nil {
			return verificationError("IAT_MISSING",
				"The RegisterUsage token has no iat in NumericDate seconds (got %s), so the ClockTolerance / MaxTokenAge "+
					"you set cannot be checked. Leave them unset to rely on the nonce alone.", jsonText(iat))
		}
		claims.IssuedAt, claims.IssuedAtSource = now, FromReceipt
		return nil
	}
	if opts.ClockTolerance != nil && iatSec > nowSec+opts.ClockTolerance.Seconds() {
		return verificationError("IAT_IN_FUTURE",
			"The RegisterUsage token was issued %d s in the future (tolerance %g s). Check this host's clock (NTP).",
			jsRound(iatSec-nowSec), opts.ClockTolerance.Seconds())
	}
	if opts.MaxTokenAge != nil && nowSec-iatSec > opts.MaxTokenAge.Seconds() {
		return verificationError("TOKEN_TOO_OLD",
			"The RegisterUsage token was issued %d s ago (limit %g s): a replayed or delayed answer.",
			jsRound(nowSec-iatSec), opts.MaxTokenAge.Seconds())
	}
	whole, fraction := math.Modf(iatSec)
	claims.IssuedAt = time.Unix(int64(whole), int64(math.Round(fraction*1e9)))
	claims.IssuedAtSource = FromToken
	claims.ClockSkewSec = jsRound(iatSec - nowSec)
	return nil
}

// plausibleIat is iat as seconds when it is a JSON number within the plausible NumericDate range.
func plausibleIat(iat any) (float64, bool) {
	number, ok := iat.(json.Number)
	if !ok {
		return 0, false
	}
	seconds, ok := jsNumber(string(number))
	return seconds, ok && seconds >= PlausibleIatMinSec && seconds < PlausibleIatMaxSec
}

// jsRound is JavaScript's Math.round: halves round towards +Infinity.
func jsRound(x float64) int64 { return int64(math.Floor(x + 0.5)) }

// checkDurations refuses a negative bound: it would silently refuse every token or switch its check off.
func checkDurations(bounds ...*time.Duration) error {
	for _, bound := range bounds {
		if bound != nil && *bound < 0 {
			return configurationError("INVALID_OPTION", "ClockTolerance and MaxTokenAge must be >= 0, got %s.", *bound)
		}
	}
	return nil
}

func jsonText(value any) string {
	if value == nil {
		return "null"
	}
	text, err := json.Marshal(value)
	if err != nil {
		return "an unprintable value"
	}
	return string(text)
}
