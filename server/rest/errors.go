package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/jmsg-im/jmsg"
)

// apiError is a REST failure: an HTTP status and JMessage's code and
// message, written as {"error":{"code":…,"message":"…"}}.
type apiError struct {
	status  int
	code    int
	message string
}

func (e *apiError) Error() string { return e.message }

// fail returns the error of code with its exact message from the code
// table and the status errors.md (e.3) assigns to it.
func fail(code int) *apiError {
	return &apiError{status: statusOf(code), code: code, message: jmsg.MessageOf(code)}
}

// failf is fail with a message of its own (e.g. naming the users).
func failf(code int, message string) *apiError {
	e := fail(code)
	e.message = message
	return e
}

// badParam is 899003 parameter invalid.
func badParam() *apiError { return fail(jmsg.RestParameterInvalid) }

// statusOf maps a code to its HTTP status: parameter errors 400,
// authentication 401, rate limit 429, internal 500, busy 503, every other
// refusal 403.
func statusOf(code int) int {
	switch code {
	case jmsg.RestParameterInvalid, jmsg.RestUserListTooLong:
		return http.StatusBadRequest
	case jmsg.RestMissingAuthenInfo, jmsg.RestBasicAuthFailed, jmsg.RestAppkeyNotExist:
		return http.StatusUnauthorized
	case jmsg.RestRateLimitExceeded:
		return http.StatusTooManyRequests
	case jmsg.RestServerInternalError:
		return http.StatusInternalServerError
	case jmsg.RestServerResponseTimeout:
		return http.StatusServiceUnavailable
	}
	return http.StatusForbidden
}

// writeError writes err's envelope; an error that is not an *apiError is
// 899000, logged by the caller.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = fail(jmsg.RestServerInternalError)
	}
	writeJSON(w, ae.status, map[string]any{"error": map[string]any{"code": ae.code, "message": ae.message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // URLs keep their '&'
		enc.Encode(v)
		w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
}
