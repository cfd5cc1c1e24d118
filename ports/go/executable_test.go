package entitlement

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runExecutable runs ports/go/ensure-entitled (built on its first run) and returns its exit code and output.
func runExecutable(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot(t), "ports", "go", "ensure-entitled"), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	default:
		t.Fatalf("cannot run ensure-entitled: %v", err)
		return 0, "", ""
	}
}

func TestExecutableExitCodes(t *testing.T) {
	entitled := startEmulator(t)
	notEntitled := startEmulator(t, "--not-entitled")
	dir := t.TempDir()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&other.PublicKey)
	otherKey := filepath.Join(dir, "other.pem")
	if err := os.WriteFile(otherKey, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	placeholder := filepath.Join(repoRoot(t), "test", "fixtures", "aws-doc-example-key.pem")
	args := func(e *emulator, key string, extra ...string) []string {
		return append([]string{"--product-code", testProductCode, "--public-key-file", key, "--public-key-version", "1", "--region", "us-east-1", "--endpoint", e.url}, extra...)
	}
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		output string
	}{
		{"entitled", args(entitled, entitled.keyFile), 0, "entitled: product " + testProductCode},
		{"not entitled", args(notEntitled, notEntitled.keyFile), 77, "CUSTOMER_NOT_ENTITLED"},
		{"an answer under another key", args(entitled, otherKey), 65, "SIGNATURE_INVALID"},
		{"the documentation placeholder key", args(entitled, placeholder), 78, "REFUSED_PUBLIC_KEY"},
		{"a key file that does not exist", args(entitled, filepath.Join(dir, "missing.pem")), 66, "PUBLIC_KEY_FILE"},
		{"an invalid Region", args(entitled, entitled.keyFile, "--region", "nowhere"), 78, "INVALID_REGION"},
		{"no arguments", nil, 64, "--product-code is required"},
		{"no key file", []string{"--product-code", testProductCode}, 64, "--public-key-file is required"},
		{"an unknown flag", append(args(entitled, entitled.keyFile), "--verbose"), 64, "flag provided but not defined"},
		{"a key version that is no number", args(entitled, entitled.keyFile, "--public-key-version", "one"), 64, "invalid value"},
		{"a stray argument", append(args(entitled, entitled.keyFile), "extra"), 64, "unexpected argument"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runExecutable(t, c.args...)
			if code != c.code || !strings.Contains(stdout+stderr, c.output) {
				t.Fatalf("exit %d (want %d), output %q %q (want %q)", code, c.code, stdout, stderr, c.output)
			}
		})
	}
	if calls := entitled.stop(t); calls != 2 {
		t.Fatalf("the entitled emulator answered %d calls, want 2 (entitled, another key)", calls)
	}
}
