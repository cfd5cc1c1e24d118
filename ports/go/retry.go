package entitlement

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// RetryPolicy is the backoff of the RegisterUsage retry loop: full jitter, each delay uniform in
// [0, min(MaxDelay, BaseDelay * 2^(failures-1))).
type RetryPolicy struct {
	// BaseDelay is the upper bound of the first backoff window. Zero: DefaultRetryPolicy's.
	BaseDelay time.Duration
	// MaxDelay is the largest backoff window. Zero: DefaultRetryPolicy's, or BaseDelay if that is larger.
	MaxDelay time.Duration
}

// The retry policy's parameters, in one place. They are the TypeScript library's DEFAULT_RETRY_POLICY and
// DEFAULT_DEADLINE_MS (src/aws/retry.ts, tuned on its herd simulation); test/vectors/retry-policy.json carries
// them and this package's tests fail when they differ, so a change there is a change here.
var (
	// DefaultRetryPolicy: base 1 s, cap 30 s.
	DefaultRetryPolicy = RetryPolicy{BaseDelay: 1 * time.Second, MaxDelay: 30 * time.Second}
	// DefaultDeadline: AWS's guidance, keep retrying RegisterUsage for up to 30 minutes.
	DefaultDeadline = 30 * time.Minute
)

// resolve fills in the defaults and refuses a policy that makes no sense.
func (p RetryPolicy) resolve() (RetryPolicy, error) {
	if p.BaseDelay == 0 {
		p.BaseDelay = DefaultRetryPolicy.BaseDelay
	}
	if p.MaxDelay == 0 {
		// A base above the default cap with no cap given means "wait longer", not a contradiction.
		p.MaxDelay = DefaultRetryPolicy.MaxDelay
		if p.BaseDelay > p.MaxDelay {
			p.MaxDelay = p.BaseDelay
		}
	}
	if p.BaseDelay <= 0 || p.MaxDelay < p.BaseDelay {
		return p, configurationError("INVALID_OPTION", "The retry policy needs 0 < BaseDelay <= MaxDelay, got %s and %s.", p.BaseDelay, p.MaxDelay)
	}
	return p, nil
}

// BackoffDelay is the delay before the next attempt after failures consecutive failures (1 = the first), for
// random in [0, 1): floor(random * min(MaxDelay, BaseDelay * 2^(failures-1))) whole milliseconds.
func BackoffDelay(failures int, policy RetryPolicy, random float64) time.Duration {
	exponent := math.Min(math.Max(float64(failures-1), 0), 30)
	window := math.Min(float64(policy.MaxDelay.Milliseconds()), float64(policy.BaseDelay.Milliseconds())*math.Pow(2, exponent))
	return time.Duration(math.Floor(random*window)) * time.Millisecond
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
