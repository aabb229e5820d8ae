// Package jmsg holds jmsg's domain: the error-code table shared by the
// server and the SDK, the validation rules of JMessage, and the enums that
// travel on the wire. It imports only the standard library.
package jmsg

import (
	"errors"
	"fmt"
)

// Error is the one error type of jmsg. Code is a JMessage error code (server
// codes such as 801003 and local SDK codes such as 863001 share one integer
// space); Message is the code's English message exactly as JMessage prints
// it, unless a server chose a more specific text (e.g. 803009 names the
// matched word). Err is an optional cause kept for inspection; it never
// travels on the wire.
//
// Use errors.As to recover an *Error from any error returned by jmsg:
//
//	var je *jmsg.Error
//	if errors.As(err, &je) && je.Code == jmsg.SDKParamUsernameInvalid { ... }
type Error struct {
	Code    int
	Message string
	Err     error
}

// Error formats the error as "code: message" followed by the cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("jmsg %d: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("jmsg %d: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, jmsg.E(jmsg.SDKUserNotLogin)) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// E returns a new *Error for code with the table's message. A code missing
// from the table gets the message "unknown error".
func E(code int) *Error {
	return &Error{Code: code, Message: MessageOf(code)}
}

// Wrap returns a new *Error for code with the table's message and cause err.
func Wrap(code int, err error) *Error {
	return &Error{Code: code, Message: MessageOf(code), Err: err}
}

// Errorf returns a new *Error for code whose cause is fmt.Errorf(format, args...).
func Errorf(code int, format string, args ...any) *Error {
	return Wrap(code, fmt.Errorf(format, args...))
}

// WithMessage returns a new *Error for code with an explicit message, for the
// few codes whose text carries details (803009, 898002, 899002).
func WithMessage(code int, msg string) *Error {
	return &Error{Code: code, Message: msg}
}

// CodeOf returns the code of the first *Error in err's chain, 0 for nil, and
// SDKUnknownError (869999) for any other error.
func CodeOf(err error) int {
	if err == nil {
		return 0
	}
	var je *Error
	if errors.As(err, &je) {
		return je.Code
	}
	return SDKUnknownError
}
