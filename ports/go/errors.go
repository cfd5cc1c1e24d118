package entitlement

import (
	"errors"
	"fmt"
)

// Exit codes of the CLI (BSD sysexits), one per failure class, as in src/common/errors.ts.
const (
	ExitOK                 = 0
	ExitUsage              = 64
	ExitVerificationFailed = 65
	ExitNoInput            = 66
	ExitServiceUnavailable = 69
	ExitNotEntitled        = 77
	ExitConfiguration      = 78
)

// Class is the kind of failure; each maps to one TypeScript error class and one exit code.
type Class string

// The failure classes, named after the TypeScript error classes.
const (
	// NotEntitled: AWS says the buyer has no subscription (CustomerNotEntitledException). Exit 77.
	NotEntitled Class = "NotEntitledError"
	// Configuration: the deployment or the options are wrong; retrying will not help. Exit 78.
	Configuration Class = "ConfigurationError"
	// Verification: the signed answer failed a check; Code names the check. Exit 65.
	Verification Class = "VerificationError"
	// ServiceUnavailable: AWS unreachable or throttling until the deadline, or the context was cancelled. Exit 69.
	ServiceUnavailable Class = "ServiceUnavailableError"
	// Input: an input file is missing or unreadable. Exit 66.
	Input Class = "InputError"
)

var exitCodes = map[Class]int{
	NotEntitled:        ExitNotEntitled,
	Configuration:      ExitConfiguration,
	Verification:       ExitVerificationFailed,
	ServiceUnavailable: ExitServiceUnavailable,
	Input:              ExitNoInput,
}

// Error is every failure of this package: a Class, a stable Code shared with the TypeScript library
// (for example NONCE_MISMATCH, CUSTOMER_NOT_ENTITLED, DEADLINE_EXCEEDED) and a message that says what to do.
type Error struct {
	Class   Class
	Code    string
	Message string
	// Attempts is the number of RegisterUsage calls made, for ServiceUnavailable errors.
	Attempts int
	// Err is the underlying failure, if any.
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("%s %s: %s", e.Class, e.Code, e.Message) }

// Unwrap returns the underlying failure.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode is the exit code the CLI uses for this failure.
func (e *Error) ExitCode() int { return exitCodes[e.Class] }

// ExitCodeOf is the CLI exit code for err: 0 for nil, the class's code for an *Error, 70 (internal
// software error) for anything else.
func ExitCodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.ExitCode()
	}
	return 70
}

// CodeOf is err's stable code, or "" when err is not an *Error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func configurationError(code, format string, args ...any) *Error {
	return &Error{Class: Configuration, Code: code, Message: fmt.Sprintf(format, args...)}
}

func verificationError(code, format string, args ...any) *Error {
	return &Error{Class: Verification, Code: code, Message: fmt.Sprintf(format, args...)}
}
