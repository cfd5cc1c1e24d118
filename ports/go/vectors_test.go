package entitlement

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// repoRoot is the checkout this package lives in (ports/go), found through symlinks (a GOPATH build links it in).
func repoRoot(t testing.TB) string {
	t.Helper()
	here, err := os.Getwd()
	if err == nil {
		here, err = filepath.EvalSymlinks(here)
	}
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(here, "..", "..")
}

func readVectors(t testing.TB, name string, into any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "test", "vectors", name))
	if err != nil {
		t.Fatalf("the conformance vectors are missing (run node scripts/generate-vectors.mjs): %v", err)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		t.Fatal(err)
	}
}

// verdict is the outcome recorded in the vectors: the TypeScript library's.
type verdict struct {
	Valid            bool     `json:"valid"`
	Error            string   `json:"error"`
	Code             string   `json:"code"`
	ExitCode         int      `json:"exitCode"`
	Bits             int      `json:"bits"`
	ProductCode      string   `json:"productCode"`
	PublicKeyVersion int      `json:"publicKeyVersion"`
	Nonce            string   `json:"nonce"`
	IssuedAt         float64  `json:"issuedAt"`
	IssuedAtSource   string   `json:"issuedAtSource"`
	ClockSkewSec     *float64 `json:"clockSkewSec"`
}

func expectFailure(t *testing.T, err error, want verdict) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; TypeScript refuses it with %s %s", want.Error, want.Code)
	}
	typed, ok := err.(*Error)
	if !ok {
		t.Fatalf("failed with %T %v, not an *Error", err, err)
	}
	if string(typed.Class) != want.Error || typed.Code != want.Code || typed.ExitCode() != want.ExitCode {
		t.Fatalf("got %s %s (exit %d), TypeScript says %s %s (exit %d): %s", typed.Class, typed.Code, typed.ExitCode(), want.Error, want.Code, want.ExitCode, typed.Message)
	}
}

func TestRegistrationVectors(t *testing.T) {
	var vectors struct {
		Now   float64           `json:"now"`
		Keys  map[string]string `json:"keys"`
		Cases []struct {
			Name  string `json:"name"`
			Key   string `json:"key"`
			Token string `json:"token"`
			Sent  struct {
				ProductCode      string `json:"productCode"`
				PublicKeyVersion int    `json:"publicKeyVersion"`
				Nonce            string `json:"nonce"`
			} `json:"sent"`
			Options struct {
				ClockToleranceSec *float64 `json:"clockToleranceSec"`
				MaxTokenAgeSec    *float64 `json:"maxTokenAgeSec"`
			} `json:"options"`
			Expect verdict `json:"expect"`
		} `json:"cases"`
	}
	readVectors(t, "registration.json", &vectors)
	if len(vectors.Cases) < 200 {
		t.Fatalf("only %d registration vectors", len(vectors.Cases))
	}
	now := time.Unix(int64(vectors.Now), 0)
	seconds := func(value *float64) *time.Duration {
		if value == nil {
			return nil
		}
		d := time.Duration(*value * float64(time.Second))
		return &d
	}
	for _, c := range vectors.Cases {
		c := c
		t.Run(c.Name, func(t *testing.T) {
			key, err := LoadProductPublicKey([]byte(vectors.Keys[c.Key]))
			if err == nil {
				var claims *Claims
				claims, err = VerifyRegistration(c.Token, VerifyOptions{
					Key: key, ProductCode: c.Sent.ProductCode, PublicKeyVersion: c.Sent.PublicKeyVersion, Nonce: c.Sent.Nonce,
					ClockTolerance: seconds(c.Options.ClockToleranceSec), MaxTokenAge: seconds(c.Options.MaxTokenAgeSec), Now: now,
				})
				if err == nil {
					if !c.Expect.Valid {
						t.Fatalf("accepted; TypeScript refuses it with %s %s", c.Expect.Error, c.Expect.Code)
					}
					issuedAt := float64(claims.IssuedAt.UnixNano()) / 1e9
					if claims.ProductCode != c.Expect.ProductCode || claims.PublicKeyVersion != c.Expect.PublicKeyVersion || claims.Nonce != c.Expect.Nonce ||
						string(claims.IssuedAtSource) != c.Expect.IssuedAtSource || math.Abs(issuedAt-c.Expect.IssuedAt) > 1e-3 {
						t.Fatalf("claims %+v differ from TypeScript's %+v", claims, c.Expect)
					}
					if c.Expect.ClockSkewSec != nil && float64(claims.ClockSkewSec) != *c.Expect.ClockSkewSec {
						t.Fatalf("clock skew %d, TypeScript says %g", claims.ClockSkewSec, *c.Expect.ClockSkewSec)
					}
					return
				}
			}
			expectFailure(t, err, c.Expect)
		})
	}
}

func TestKeyVectors(t *testing.T) {
	var vectors struct {
		Cases []struct {
			Name   string  `json:"name"`
			PEM    string  `json:"pem"`
			Expect verdict `json:"expect"`
		} `json:"cases"`
	}
	readVectors(t, "keys.json", &vectors)
	for _, c := range vectors.Cases {
		c := c
		t.Run(c.Name, func(t *testing.T) {
			key, err := LoadProductPublicKey([]byte(c.PEM))
			if err != nil {
				expectFailure(t, err, c.Expect)
				return
			}
			if !c.Expect.Valid || key.Bits() != c.Expect.Bits {
				t.Fatalf("accepted as RSA-%d; TypeScript says %+v", key.Bits(), c.Expect)
			}
		})
	}
}

func TestPlaceholderFingerprint(t *testing.T) {
	placeholder, err := os.ReadFile(filepath.Join(repoRoot(t), "test", "fixtures", "aws-doc-example-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(placeholder)
	if sum := sha256.Sum256(block.Bytes); fmt.Sprintf("%x", sum) != AWSDocPlaceholderKeySHA256 {
		t.Fatalf("the fixture's SPKI SHA-256 is %x, the constant says %s", sum, AWSDocPlaceholderKeySHA256)
	}
	if _, err := LoadProductPublicKey(placeholder); CodeOf(err) != "REFUSED_PUBLIC_KEY" {
		t.Fatalf("the placeholder got %v", err)
	}
}

func TestAWSErrorVectors(t *testing.T) {
	var vectors struct {
		Cases []struct {
			Name   string `json:"name"`
			Status int    `json:"status"`
			Expect struct {
				Retryable bool   `json:"retryable"`
				Error     string `json:"error"`
				Code      string `json:"code"`
				ExitCode  int    `json:"exitCode"`
			} `json:"expect"`
		} `json:"cases"`
	}
	readVectors(t, "aws-errors.json", &vectors)
	for _, c := range vectors.Cases {
		c := c
		t.Run(fmt.Sprintf("%s %d", c.Name, c.Status), func(t *testing.T) {
			final := classifyAWSErrorCode(c.Name, c.Name+" from the service", c.Status, nil)
			if c.Expect.Retryable {
				if final != nil {
					t.Fatalf("final (%s %s); TypeScript retries it", final.Class, final.Code)
				}
				return
			}
			if final == nil || string(final.Class) != c.Expect.Error || final.Code != c.Expect.Code || final.ExitCode() != c.Expect.ExitCode {
				t.Fatalf("got %+v; TypeScript says %+v", final, c.Expect)
			}
		})
	}
}

// vectorPolicy is a RetryPolicy as test/vectors/retry-policy.json writes it, in (possibly fractional) milliseconds.
type vectorPolicy struct {
	BaseDelayMs     float64 `json:"baseDelayMs"`
	DoublingLimitMs float64 `json:"doublingLimitMs"`
	StepDelayMs     float64 `json:"stepDelayMs"`
	MaxDelayMs      float64 `json:"maxDelayMs"`
	MaxJitterMs     float64 `json:"maxJitterMs"`
}

func (v vectorPolicy) retryPolicy() RetryPolicy {
	d := func(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }
	return RetryPolicy{BaseDelay: d(v.BaseDelayMs), DoublingLimit: d(v.DoublingLimitMs), StepDelay: d(v.StepDelayMs), MaxDelay: d(v.MaxDelayMs), MaxJitter: d(v.MaxJitterMs)}
}

func TestRetryPolicyIsTheLibrarys(t *testing.T) {
	var vectors struct {
		vectorPolicy
		DeadlineMs int64 `json:"deadlineMs"`
	}
	readVectors(t, "retry-policy.json", &vectors)
	if vectors.retryPolicy() != DefaultRetryPolicy || DefaultDeadline.Milliseconds() != vectors.DeadlineMs {
		t.Fatalf("DefaultRetryPolicy %+v / DefaultDeadline %s differ from the TypeScript policy %+v: update retry.go", DefaultRetryPolicy, DefaultDeadline, vectors)
	}
}

func TestBackoffDelayIsTheLibrarys(t *testing.T) {
	var vectors struct {
		Samples []struct {
			Failures int           `json:"failures"`
			Random   float64       `json:"random"`
			Policy   *vectorPolicy `json:"policy"`
			DelayMs  int64         `json:"delayMs"`
		} `json:"samples"`
	}
	readVectors(t, "retry-policy.json", &vectors)
	if len(vectors.Samples) < 100 {
		t.Fatalf("only %d samples in retry-policy.json", len(vectors.Samples))
	}
	for _, s := range vectors.Samples {
		policy := DefaultRetryPolicy
		if s.Policy != nil {
			policy = s.Policy.retryPolicy()
		}
		if got := BackoffDelay(s.Failures, policy, s.Random); got != time.Duration(s.DelayMs)*time.Millisecond {
			t.Errorf("BackoffDelay(%d, %+v, %v) = %s; TypeScript says %d ms", s.Failures, policy, s.Random, got, s.DelayMs)
		}
	}
}

func TestEmbeddedRootsAreNodes(t *testing.T) {
	var vectors struct {
		Roots []struct {
			Subject string `json:"subject"`
			SHA256  string `json:"sha256"`
			PEM     string `json:"pem"`
		} `json:"roots"`
	}
	readVectors(t, "amazon-roots.json", &vectors)
	var embedded []*x509.Certificate
	for rest := amazonRootsPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		certificate, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		embedded = append(embedded, certificate)
	}
	if len(embedded) != len(vectors.Roots) || len(embedded) != 5 {
		t.Fatalf("%d embedded roots, %d in Node's store", len(embedded), len(vectors.Roots))
	}
	for i, root := range vectors.Roots {
		block, _ := pem.Decode([]byte(root.PEM))
		sum := sha256.Sum256(embedded[i].Raw)
		fingerprint := strings.ToUpper(strings.Join(strings.Split(fmt.Sprintf("% x", sum), " "), ":"))
		if string(block.Bytes) != string(embedded[i].Raw) || fingerprint != root.SHA256 || embedded[i].Subject.CommonName != root.Subject || !embedded[i].IsCA {
			t.Fatalf("embedded root %d (%s) is not Node's %s", i, embedded[i].Subject.CommonName, root.Subject)
		}
	}
}
