package entitlement

import (
	"testing"
	"time"
)

func TestBackoffWindowDoublesThenStepsUpToTheCap(t *testing.T) {
	policy := RetryPolicy{BaseDelay: time.Second, DoublingLimit: 4 * time.Second, StepDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second, MaxJitter: 8 * time.Second}
	// 1, 2, 4 s doubling, then 4.5, 5, ... s, capped at 30 s.
	for failures, want := range map[int]float64{0: 1000, 1: 1000, 2: 2000, 3: 4000, 4: 4500, 5: 5000, 54: 29_500, 55: 30_000, 1 << 62: 30_000} {
		if got := backoffWindowMs(failures, policy); got != want {
			t.Errorf("backoffWindowMs(%d) = %v, want %v", failures, got, want)
		}
	}
}

func TestBackoffDelayIsUniformOverTheWindowsLastMaxJitter(t *testing.T) {
	policy := RetryPolicy{BaseDelay: 100 * time.Millisecond, DoublingLimit: 400 * time.Millisecond, StepDelay: 100 * time.Millisecond, MaxDelay: 1000 * time.Millisecond, MaxJitter: 300 * time.Millisecond}
	for _, c := range []struct {
		failures int
		random   float64
		want     time.Duration
	}{
		{1, 0, 0},
		{1, 0.999999, 99 * time.Millisecond}, // full jitter while the window (100 ms) is narrower than MaxJitter
		{3, 0, 100 * time.Millisecond},       // window 400 ms: the delay falls in its last 300 ms
		{3, 0.5, 250 * time.Millisecond},
		{4, 0.999999, 499 * time.Millisecond}, // window 500 ms, never the window itself
		{1000, 0.5, 850 * time.Millisecond},   // capped at 1000 ms, no overflow however many failures
		{0, 0.5, 50 * time.Millisecond},       // before any failure: the first window
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
	// A policy of the old two fields alone keeps them and takes the new defaults for the rest, as in TypeScript.
	if resolved, _ := (RetryPolicy{BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}).resolve(); resolved !=
		(RetryPolicy{BaseDelay: 10 * time.Millisecond, DoublingLimit: time.Second, StepDelay: 500 * time.Millisecond, MaxDelay: 50 * time.Millisecond, MaxJitter: 8 * time.Second}) {
		t.Fatalf("base and cap alone resolved to %+v", resolved)
	}
	if resolved, _ := (RetryPolicy{BaseDelay: time.Hour}).resolve(); resolved.MaxDelay != time.Hour {
		t.Fatalf("a base above the default cap keeps its own cap: %+v", resolved)
	}
	for _, bad := range []RetryPolicy{
		{BaseDelay: -time.Second},
		{BaseDelay: 2 * time.Second, MaxDelay: time.Second},
		{DoublingLimit: -time.Second},
		{StepDelay: -time.Millisecond},
		{MaxDelay: -time.Second},
		{MaxJitter: -time.Nanosecond},
	} {
		if _, err := bad.resolve(); CodeOf(err) != "INVALID_OPTION" {
			t.Errorf("%+v: got %v, want INVALID_OPTION", bad, err)
		}
	}
}
