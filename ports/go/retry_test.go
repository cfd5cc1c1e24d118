package entitlement

import (
	"testing"
	"time"
)

func TestBackoffDelayIsFullJitterUnderADoublingCappedWindow(t *testing.T) {
	policy := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: 1000 * time.Millisecond}
	for _, c := range []struct {
		failures int
		random   float64
		want     time.Duration
	}{
		{1, 0, 0},
		{1, 0.999999, 99 * time.Millisecond},
		{3, 0.5, 200 * time.Millisecond},      // window 400 ms
		{5, 0.999999, 999 * time.Millisecond}, // window capped at 1000 ms
		{0, 0.5, 50 * time.Millisecond},       // before any failure: the first window
		{1000, 0.5, 500 * time.Millisecond},   // no overflow however many failures
	} {
		if got := BackoffDelay(c.failures, policy, c.random); got != c.want {
			t.Errorf("BackoffDelay(%d, %v) = %s, want %s", c.failures, c.random, got, c.want)
		}
	}
}

func TestJitterIsUniformInUnitInterval(t *testing.T) {
	seen := map[bool]int{}
	for i := 0; i < 1000; i++ {
		r := jitter()
		if r < 0 || r >= 1 {
			t.Fatalf("jitter %v outside [0, 1)", r)
		}
		seen[r < 0.5]++
	}
	// 1000 fair draws fall below 0.5 between 400 and 600 times except with probability ~1e-10.
	if seen[true] < 400 || seen[true] > 600 {
		t.Fatalf("%d of 1000 draws below 0.5", seen[true])
	}
}

func TestRetryPolicyDefaultsAndRefusals(t *testing.T) {
	resolved, err := RetryPolicy{}.resolve()
	if err != nil || resolved != DefaultRetryPolicy {
		t.Fatalf("zero policy resolved to %+v, %v", resolved, err)
	}
	if resolved, _ := (RetryPolicy{BaseDelay: time.Hour}).resolve(); resolved.MaxDelay != time.Hour {
		t.Fatalf("a base above the default cap keeps its own cap: %+v", resolved)
	}
	for _, bad := range []RetryPolicy{{BaseDelay: -time.Second}, {BaseDelay: 2 * time.Second, MaxDelay: time.Second}} {
		if _, err := bad.resolve(); CodeOf(err) != "INVALID_OPTION" {
			t.Errorf("%+v: got %v, want INVALID_OPTION", bad, err)
		}
	}
}
