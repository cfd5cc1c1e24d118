package entitlement

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// RetryPolicy is the backoff of the RegisterUsage retry loop (the TypeScript library's RetryPolicy, src/aws/retry.ts).
// After the k-th consecutive failure the loop waits a random delay drawn from a window: the window starts at
// BaseDelay, doubles after each failure up to DoublingLimit, then grows by StepDelay per failure, never past
// MaxDelay; the delay is uniform over the last MaxJitter of the window (over the whole window, "full jitter", while
// the window is no wider than that). See BackoffDelay. A zero field takes DefaultRetryPolicy's value.
type RetryPolicy struct {
	// BaseDelay is the first backoff window.
	BaseDelay time.Duration
	// DoublingLimit: the window doubles after each failure until it reaches this (it stays at most this while doubling).
	DoublingLimit time.Duration
	// StepDelay: past the doubling, the window grows by this much per failure.
	StepDelay time.Duration
	// MaxDelay is the largest backoff window, however many attempts failed. Zero: DefaultRetryPolicy's, or
	// BaseDelay if that is larger.
	MaxDelay time.Duration
	// MaxJitter is the widest spread of the random draw: the delay falls in the last MaxJitter of the window.
	MaxJitter time.Duration
}

// The retry policy's parameters, in one place. They are the TypeScript library's DEFAULT_RETRY_POLICY and
// DEFAULT_DEADLINE_MS (src/aws/retry.ts, chosen on its herd simulation, issue 25); test/vectors/retry-policy.json
// carries them with sample delays, and this package's tests fail when they differ, so a change there is a change here.
var (
	// DefaultRetryPolicy: window 1 s, growing by 0.5 s per failure up to 30 s (no doubling); the delay is drawn
	// from the window's last 8 s (the whole window up to the 15th failure).
	DefaultRetryPolicy = RetryPolicy{BaseDelay: 1 * time.Second, DoublingLimit: 1 * time.Second, StepDelay: 500 * time.Millisecond,
		MaxDelay: 30 * time.Second, MaxJitter: 8 * time.Second}
	// DefaultDeadline: AWS's guidance, keep retrying RegisterUsage for up to 30 minutes.
	DefaultDeadline = 30 * time.Minute
)

// resolve fills in the defaults and refuses a policy that makes no sense (resolveRetryPolicy in TypeScript, where
// a field left out is Go's zero).
func (p RetryPolicy) resolve() (RetryPolicy, error) {
	orDefault := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	orDefault(&p.BaseDelay, DefaultRetryPolicy.BaseDelay)
	// A base above the default cap with no cap given means "wait longer", not a contradiction.
	if p.BaseDelay > DefaultRetryPolicy.MaxDelay {
		orDefault(&p.MaxDelay, p.BaseDelay)
	}
	orDefault(&p.MaxDelay, DefaultRetryPolicy.MaxDelay)
	orDefault(&p.DoublingLimit, DefaultRetryPolicy.DoublingLimit)
	orDefault(&p.StepDelay, DefaultRetryPolicy.StepDelay)
	orDefault(&p.MaxJitter, DefaultRetryPolicy.MaxJitter)
	if p.BaseDelay < 0 || p.DoublingLimit < 0 || p.StepDelay < 0 || p.MaxDelay < 0 || p.MaxJitter < 0 || p.MaxDelay < p.BaseDelay {
		return p, configurationError("INVALID_OPTION", "The retry policy needs positive delays with BaseDelay <= MaxDelay, got %+v.", p)
	}
	return p, nil
}

// milliseconds is d in (fractional) milliseconds, the unit the TypeScript policy computes in.
func milliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// backoffWindowMs is the backoff window after failures consecutive failures (1 = the first), in milliseconds:
// BaseDelay, doubled per further failure up to DoublingLimit, then StepDelay more per failure, at most MaxDelay
// (backoffWindow in TypeScript, the same float64 arithmetic).
func backoffWindowMs(failures int, policy RetryPolicy) float64 {
	window := milliseconds(policy.BaseDelay)
	doublingLimit, maxDelay := milliseconds(policy.DoublingLimit), milliseconds(policy.MaxDelay)
	counted := 1 // failures the window accounts for so far
	// At most log2(DoublingLimit / BaseDelay) + 1 rounds, whatever failures is.
	for counted < failures && window < doublingLimit && window < maxDelay {
		window = math.Min(window*2, doublingLimit)
		counted++
	}
	steps := 0
	if failures > counted {
		steps = failures - counted
	}
	return math.Min(maxDelay, window+milliseconds(policy.StepDelay)*float64(steps))
}

// BackoffDelay is the delay before the next attempt after failures consecutive failures (1 = the first), for
// random in [0, 1) and a policy with every field set (DefaultRetryPolicy, or one EnsureEntitled accepted): in whole
// milliseconds, floor(window - spread) + floor(random * spread), where window is the backoff window and spread =
// min(window, MaxJitter); that is, uniform over [window - spread, window).
func BackoffDelay(failures int, policy RetryPolicy, random float64) time.Duration {
	window := backoffWindowMs(failures, policy)
	spread := math.Min(window, milliseconds(policy.MaxJitter))
	// Two floors rather than one: floor(a + random * b) can round up to the window itself when random is near 1.
	return time.Duration(math.Floor(window-spread)+math.Floor(random*spread)) * time.Millisecond
}

// jitter is uniform in [0, 1) from the CSPRNG: Go 1.19's math/rand starts every process from the same seed,
// and pods that all draw the same "random" delays retry in lock-step, which is what jitter is for avoiding.
func jitter() float64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 1 // no entropy: wait the whole window rather than not at all
	}
	return float64(binary.BigEndian.Uint64(b[:])>>11) / (1 << 53)
}

// retryUntilDeadline runs attempt until it succeeds, fails for good (classify says so), the deadline passes or
// ctx is cancelled; the last two end in a ServiceUnavailable *Error (DEADLINE_EXCEEDED, ABORTED) wrapping the
// last failure. Each attempt gets a context that ends at the deadline, so a hung request never outlives it.
func retryUntilDeadline[T any](ctx context.Context, deadline time.Duration, policy RetryPolicy, operation string,
	attempt func(context.Context) (T, error), classify func(error) *Error, onRetry func(attempt int, delay time.Duration, err error),
) (T, int, error) {
	var zero T
	budget, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	deadlineAt, _ := budget.Deadline()
	var lastErr error
	attempts := 0
	giveUp := func() (T, int, error) {
		if ctx.Err() != nil {
			return zero, attempts, &Error{Class: ServiceUnavailable, Code: "ABORTED", Attempts: attempts, Err: lastErr,
				Message: fmt.Sprintf("%s was aborted after %d attempt(s)", operation, attempts)}
		}
		last := ""
		if lastErr != nil {
			last = "; last error: " + lastErr.Error()
		}
		return zero, attempts, &Error{Class: ServiceUnavailable, Code: "DEADLINE_EXCEEDED", Attempts: attempts, Err: lastErr,
			Message: fmt.Sprintf("%s did not succeed within %s (%d attempt(s))%s. AWS was unreachable or kept throttling; "+
				"check network egress to the AWS endpoint and retry later.", operation, deadline, attempts, last)}
	}
	for {
		if budget.Err() != nil {
			return giveUp()
		}
		attempts++
		value, err := attempt(budget)
		if err == nil {
			return value, attempts, nil
		}
		// The clock as well as the context: a dial that hit the deadline reports an i/o timeout a moment before
		// the context's own timer marks it done.
		if budget.Err() != nil || !time.Now().Before(deadlineAt) {
			// An attempt cut short by the deadline or the caller is not the service's answer: the last complete
			// failure, if any, says more.
			if lastErr == nil {
				lastErr = err
			}
			return giveUp()
		}
		if final := classify(err); final != nil {
			return zero, attempts, final
		}
		lastErr = err
		delay := BackoffDelay(attempts, policy, jitter())
		if onRetry != nil {
			onRetry(attempts, delay, err)
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-budget.Done():
			timer.Stop()
		}
	}
}
