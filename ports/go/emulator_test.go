package entitlement

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests register for real: the AWS SDK for Go over HTTP to the project's emulator
// (node dist/cli.cjs emulator), which signs PS256 answers as AWS does.

const testProductCode = "prod-go-port"

func TestMain(m *testing.M) {
	// Static credentials from the environment (the SDK's default chain), no real AWS configuration.
	for name, value := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
	} {
		os.Setenv(name, value)
	}
	for _, name := range []string{"AWS_PROFILE", "AWS_CA_BUNDLE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"} {
		os.Unsetenv(name)
	}
	os.Exit(m.Run())
}

// lockedBuffer collects an emulator's output from two goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type emulator struct {
	url     string
	keyFile string
	cmd     *exec.Cmd
	output  *lockedBuffer
	copied  chan struct{}
}

// startEmulator runs `node dist/cli.cjs emulator` with args on an ephemeral port and stops it after the test.
func startEmulator(t *testing.T, args ...string) *emulator {
	t.Helper()
	return startNode(t, func(keyFile string) []string {
		return append([]string{filepath.Join("dist", "cli.cjs"), "emulator", "--port", "0", "--public-key-out", keyFile}, args...)
	})
}

// startScenarioEmulator runs the emulator with a scenario the CLI has no flag for (test/support/emulator-scenario.mjs).
func startScenarioEmulator(t *testing.T, scenario json.RawMessage) *emulator {
	t.Helper()
	return startNode(t, func(keyFile string) []string {
		return []string{filepath.Join("test", "support", "emulator-scenario.mjs"), keyFile, string(scenario)}
	})
}

// startNode runs an emulator under node from the repository root: it prints its URL on its first line, writes
// its public key where told and logs its call count when stopped.
func startNode(t *testing.T, command func(keyFile string) []string) *emulator {
	t.Helper()
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "dist", "cli.cjs")); err != nil {
		t.Fatalf("the build is missing: run npm ci && npm run build in %s", root)
	}
	node := os.Getenv("NODE")
	if node == "" {
		node = "node"
	}
	keyFile := filepath.Join(t.TempDir(), "emulator-key.pem")
	cmd := exec.Command(node, command(keyFile)...)
	cmd.Dir = root
	output := &lockedBuffer{}
	cmd.Stderr = output
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start the emulator with %s: %v", node, err)
	}
	reader := bufio.NewReader(stdout)
	line, err := reader.ReadString('\n')
	match := regexp.MustCompile(`listening on (http://\S+?);`).FindStringSubmatch(line)
	if err != nil || match == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the emulator did not start: %q %v %s", line, err, output.String())
	}
	e := &emulator{url: match[1], keyFile: keyFile, cmd: cmd, output: output, copied: make(chan struct{})}
	go func() {
		_, _ = reader.WriteTo(output)
		close(e.copied)
	}()
	t.Cleanup(func() { e.stop(t) })
	return e
}

// stop ends the emulator (once) and returns how many calls it answered.
func (e *emulator) stop(t *testing.T) int {
	t.Helper()
	if e.cmd.ProcessState == nil {
		_ = e.cmd.Process.Signal(syscall.SIGTERM)
		<-e.copied
		_ = e.cmd.Wait()
	}
	match := regexp.MustCompile(`"event":"emulator.stopped".*?"calls":(\d+)`).FindStringSubmatch(e.output.String())
	if match == nil {
		t.Fatalf("the emulator's stop line is missing: %s", e.output.String())
	}
	calls, _ := strconv.Atoi(match[1])
	return calls
}

func (e *emulator) key(t *testing.T) []byte {
	t.Helper()
	key, err := os.ReadFile(e.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// fastRetries keeps the retry loop but with windows of 1 to 4 ms, so retries cost no test time.
var fastRetries = RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond}

func (e *emulator) options(t *testing.T) Options {
	return Options{ProductCode: testProductCode, PublicKeyPEM: e.key(t), Endpoint: e.url, Retry: fastRetries, Logf: t.Logf}
}

func expectError(t *testing.T, err error, class Class, code string, exitCode int) *Error {
	t.Helper()
	var typed *Error
	if !errors.As(err, &typed) {
		t.Fatalf("got %v, want %s %s", err, class, code)
	}
	if typed.Class != class || typed.Code != code || typed.ExitCode() != exitCode {
		t.Fatalf("got %s %s (exit %d), want %s %s (exit %d): %s", typed.Class, typed.Code, typed.ExitCode(), class, code, exitCode, typed.Message)
	}
	return typed
}

func TestEntitledAgainstTheEmulator(t *testing.T) {
	e := startEmulator(t)
	first, err := EnsureEntitled(context.Background(), e.options(t))
	if err != nil {
		t.Fatal(err)
	}
	if first.ProductCode != testProductCode || first.PublicKeyVersion != 1 || first.Attempts != 1 || first.Region != "us-east-1" ||
		first.IssuedAtSource != FromToken || len(first.Nonce) != 43 {
		t.Fatalf("unexpected entitlement %+v", first)
	}
	second, err := EnsureEntitled(context.Background(), e.options(t))
	if err != nil {
		t.Fatal(err)
	}
	if second.Nonce == first.Nonce {
		t.Fatal("two registrations sent the same nonce")
	}
	// The registration verifies under the nonce it was made with, and under no other.
	key, _ := LoadProductPublicKey(e.key(t))
	if _, err := VerifyRegistration(first.Registration, VerifyOptions{Key: key, ProductCode: testProductCode, PublicKeyVersion: 1, Nonce: second.Nonce}); CodeOf(err) != "NONCE_MISMATCH" {
		t.Fatalf("the first registration under the second nonce: %v", err)
	}
	if calls := e.stop(t); calls != 2 {
		t.Fatalf("the emulator answered %d calls, want 2", calls)
	}
}

func TestNotEntitled(t *testing.T) {
	e := startEmulator(t, "--not-entitled")
	_, err := EnsureEntitled(context.Background(), e.options(t))
	expectError(t, err, NotEntitled, "CUSTOMER_NOT_ENTITLED", 77)
	if calls := e.stop(t); calls != 1 {
		t.Fatalf("a final answer was retried: %d calls", calls)
	}
}

func TestThrottlingAndServerErrorsAreRetried(t *testing.T) {
	for _, flag := range []string{"--throttle-first", "--fail-first"} {
		t.Run(flag, func(t *testing.T) {
			e := startEmulator(t, flag, "2")
			ent, err := EnsureEntitled(context.Background(), e.options(t))
			if err != nil {
				t.Fatal(err)
			}
			if ent.Attempts != 3 {
				t.Fatalf("%d attempts, want 3", ent.Attempts)
			}
		})
	}
}

func TestModelledErrorsAreFinal(t *testing.T) {
	for exception, code := range map[string]string{
		"PlatformNotSupportedException":    "PLATFORM_NOT_SUPPORTED",
		"InvalidRegionException":           "INVALID_REGION",
		"InvalidPublicKeyVersionException": "INVALID_PUBLIC_KEY_VERSION",
	} {
		t.Run(exception, func(t *testing.T) {
			e := startEmulator(t, "--error", exception)
			_, err := EnsureEntitled(context.Background(), e.options(t))
			expectError(t, err, Configuration, code, 78)
			if calls := e.stop(t); calls != 1 {
				t.Fatalf("%d calls, want 1", calls)
			}
		})
	}
}

func TestAnswerUnderAnotherKeyIsRefused(t *testing.T) {
	e := startEmulator(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&other.PublicKey)
	options := e.options(t)
	options.PublicKeyPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	_, err = EnsureEntitled(context.Background(), options)
	expectError(t, err, Verification, "SIGNATURE_INVALID", 65)
}

func TestConfigurationIsCheckedBeforeAnyCall(t *testing.T) {
	e := startEmulator(t)
	placeholder, err := os.ReadFile(filepath.Join(repoRoot(t), "test", "fixtures", "aws-doc-example-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	negative := -time.Second
	for _, c := range []struct {
		name   string
		change func(*Options)
		code   string
	}{
		{"the documentation placeholder key", func(o *Options) { o.PublicKeyPEM = placeholder }, "REFUSED_PUBLIC_KEY"},
		{"no key", func(o *Options) { o.PublicKeyPEM = nil }, "MISSING_PUBLIC_KEY"},
		{"a product code with a space", func(o *Options) { o.ProductCode = "prod code" }, "INVALID_PRODUCT_CODE"},
		{"an empty product code", func(o *Options) { o.ProductCode = "" }, "INVALID_PRODUCT_CODE"},
		{"a negative key version", func(o *Options) { o.PublicKeyVersion = -1 }, "INVALID_PUBLIC_KEY_VERSION"},
		{"a key version beyond 32 bits", func(o *Options) { o.PublicKeyVersion = MaxPublicKeyVersion + 1 }, "INVALID_PUBLIC_KEY_VERSION"},
		{"an endpoint that is no URL", func(o *Options) { o.Endpoint = "127.0.0.1:8443" }, "INVALID_OPTION"},
		{"an ftp endpoint", func(o *Options) { o.Endpoint = "ftp://127.0.0.1/" }, "INVALID_OPTION"},
		{"a Region that is no Region", func(o *Options) { o.Region = "moon-base" }, "INVALID_REGION"},
		{"a negative MaxTokenAge", func(o *Options) { o.MaxTokenAge = &negative }, "INVALID_OPTION"},
		{"a retry cap below its base", func(o *Options) { o.Retry = RetryPolicy{BaseDelay: time.Second, MaxDelay: time.Millisecond} }, "INVALID_OPTION"},
		{"a TLS root bundle that does not exist", func(o *Options) { o.TLSRoots = "/nonexistent/roots.pem" }, "INVALID_TLS_ROOTS"},
		{"a TLS root bundle that holds a key", func(o *Options) { o.TLSRoots = e.keyFile }, "INVALID_TLS_ROOTS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			options := e.options(t)
			c.change(&options)
			_, err := EnsureEntitled(context.Background(), options)
			expectError(t, err, Configuration, c.code, 78)
		})
	}
	t.Run("no Region anywhere", func(t *testing.T) {
		t.Setenv("AWS_REGION", "")
		_, err := EnsureEntitled(context.Background(), e.options(t))
		expectError(t, err, Configuration, "MISSING_REGION", 78)
	})
	if calls := e.stop(t); calls != 0 {
		t.Fatalf("the emulator was called %d times", calls)
	}
}

func TestNoCredentialsIsAConfigurationError(t *testing.T) {
	e := startEmulator(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_, err := EnsureEntitled(context.Background(), e.options(t))
	expectError(t, err, Configuration, "NO_CREDENTIALS", 78)
}

// closedPort is an address nothing listens on.
func closedPort(t *testing.T) string {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := listener.Addr().String()
	listener.Close()
	return address
}

func TestUnreachableUntilTheDeadline(t *testing.T) {
	e := startEmulator(t)
	options := e.options(t)
	options.Endpoint = "http://" + closedPort(t)
	options.Deadline = 300 * time.Millisecond
	_, err := EnsureEntitled(context.Background(), options)
	typed := expectError(t, err, ServiceUnavailable, "DEADLINE_EXCEEDED", 69)
	var netErr *net.OpError
	if typed.Attempts < 1 || !errors.As(err, &netErr) {
		t.Fatalf("%d attempts, last error %v", typed.Attempts, typed.Err)
	}
}

func TestCancelledContextAborts(t *testing.T) {
	e := startEmulator(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := EnsureEntitled(ctx, e.options(t))
	expectError(t, err, ServiceUnavailable, "ABORTED", 69)
}

// tlsFront is a TLS server with a self-signed certificate in front of the emulator, and that certificate as a
// PEM bundle: a TLS-intercepting proxy, as far as the client can tell.
func tlsFront(t *testing.T, e *emulator) (string, string) {
	target, _ := url.Parse(e.url)
	server := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(server.Close)
	bundle := filepath.Join(t.TempDir(), "front.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return server.URL, bundle
}

func TestTLSTrustsOnlyAmazonRootsByDefault(t *testing.T) {
	e := startEmulator(t)
	front, bundle := tlsFront(t, e)
	for _, roots := range []string{"", TLSRootsAWS, TLSRootsSystem} {
		t.Run("roots "+roots, func(t *testing.T) {
			options := e.options(t)
			options.Endpoint, options.TLSRoots, options.Deadline = front, roots, 300*time.Millisecond
			_, err := EnsureEntitled(context.Background(), options)
			expectError(t, err, ServiceUnavailable, "DEADLINE_EXCEEDED", 69)
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Fatalf("the last failure is not an unknown-authority TLS error: %v", err)
			}
		})
	}
	t.Run("a bundle with the front's certificate", func(t *testing.T) {
		options := e.options(t)
		options.Endpoint, options.TLSRoots = front, bundle
		ent, err := EnsureEntitled(context.Background(), options)
		if err != nil || ent.Attempts != 1 {
			t.Fatalf("%+v %v", ent, err)
		}
	})
	if calls := e.stop(t); calls != 1 {
		t.Fatalf("%d calls reached the emulator through TLS, want 1", calls)
	}
}

func TestAWSCABundleCannotWidenTheTrust(t *testing.T) {
	e := startEmulator(t)
	front, bundle := tlsFront(t, e)
	t.Setenv("AWS_CA_BUNDLE", bundle)
	options := e.options(t)
	options.Endpoint = front
	_, err := EnsureEntitled(context.Background(), options)
	expectError(t, err, Configuration, "AWS_CONFIG", 78)
	if !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Fatalf("the message does not name AWS_CA_BUNDLE: %v", err)
	}
}

func TestSignatureAboveTheModulusIsRefused(t *testing.T) {
	// Go 1.19's rsa.VerifyPSS reduces the signature modulo n; s + n must not pass for s.
	for {
		private, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		token := signedToken(t, private, `{"productCode":"p","publicKeyVersion":1,"nonce":"n"}`)
		cut := strings.LastIndexByte(token, '.')
		signature := decodeSegment(t, token[cut+1:])
		shifted := new(big.Int).Add(new(big.Int).SetBytes(signature), private.N)
		if len(shifted.Bytes()) != len(signature) {
			continue // s + n does not fit in the modulus length for this key; try another
		}
		der, _ := x509.MarshalPKIXPublicKey(&private.PublicKey)
		key, err := LoadProductPublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		if err != nil {
			t.Fatal(err)
		}
		options := VerifyOptions{Key: key, ProductCode: "p", PublicKeyVersion: 1, Nonce: "n"}
		if _, err := VerifyRegistration(token, options); err != nil {
			t.Fatalf("the control token: %v", err)
		}
		forged := token[:cut+1] + base64.RawURLEncoding.EncodeToString(shifted.Bytes())
		if _, err := VerifyRegistration(forged, options); CodeOf(err) != "SIGNATURE_INVALID" {
			t.Fatalf("s + n: %v", err)
		}
		return
	}
}

func TestEmulatorScenariosGetTheTypeScriptVerdict(t *testing.T) {
	var vectors struct {
		Cases []struct {
			Name     string          `json:"name"`
			Scenario json.RawMessage `json:"scenario"`
			Expect   struct {
				verdict
				PublicKeyRotationTimestamp *int64 `json:"publicKeyRotationTimestamp"`
			} `json:"expect"`
		} `json:"cases"`
	}
	readVectors(t, "emulator-scenarios.json", &vectors)
	for _, c := range vectors.Cases {
		c := c
		t.Run(c.Name, func(t *testing.T) {
			e := startScenarioEmulator(t, c.Scenario)
			ent, err := EnsureEntitled(context.Background(), e.options(t))
			if err != nil {
				expectFailure(t, err, c.Expect.verdict)
			} else if !c.Expect.Valid || string(ent.IssuedAtSource) != c.Expect.IssuedAtSource {
				t.Fatalf("entitled (%+v); TypeScript says %+v", ent, c.Expect)
			}
			if c.Expect.PublicKeyRotationTimestamp != nil && (ent.PublicKeyRotationTimestamp == nil || ent.PublicKeyRotationTimestamp.Unix() != *c.Expect.PublicKeyRotationTimestamp) {
				t.Fatalf("rotation timestamp %v, TypeScript says %d", ent.PublicKeyRotationTimestamp, *c.Expect.PublicKeyRotationTimestamp)
			}
			if calls := e.stop(t); calls != 1 {
				t.Fatalf("%d calls, want 1", calls)
			}
		})
	}
}
