// Package apperr is the one error type of Treffpunkt: a code, a message
// that is safe to show, optional field errors, and an internal cause that
// only the log sees. Which HTTP status a code becomes is for the faces to
// decide (internal/web and internal/api), not for the domain.
//
// Messages are message-catalogue ids (with template data) rather than text,
// so that pages, JSON and mails show them in the reader's language.
package apperr

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// Codes are part of the public JSON API; keep them stable.
const (
	Invalid          = "invalid"
	NotFound         = "not_found"
	Full             = "full"
	SessionFull      = "session_full"
	Closed           = "closed"
	MembersOnly      = "members_only"
	Age              = "age"
	Conflict         = "conflict"
	Forbidden        = "forbidden"
	Unauthorized     = "unauthorized"
	RateLimited      = "rate_limited"
	TooLarge         = "too_large"
	UnsupportedMedia = "unsupported_media_type"
	BadRequest       = "bad_request"
	Unavailable      = "unavailable"
	Internal         = "internal"
)

// Msg is a message-catalogue id with the data its text needs.
type Msg struct {
	ID   string
	Data map[string]any
}

// M builds a Msg from an id and key/value pairs.
func M(id string, kv ...any) Msg {
	m := Msg{ID: id}
	if len(kv) > 0 {
		m.Data = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m.Data[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return m
}

// Error is an error a user may see.
type Error struct {
	Code string
	Msg  Msg
	// Fields maps a form or JSON field name to what is wrong with it.
	Fields map[string]Msg
	// Cause is for the log only.
	Cause error
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Msg.ID
	for f, m := range e.Fields {
		s += " [" + f + ": " + m.ID + "]"
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with a code and a message id (plus template data).
func New(code, msgID string, kv ...any) *Error {
	return &Error{Code: code, Msg: M(msgID, kv...)}
}

// Field is an invalid-input error (422) for a single field.
func Field(field, msgID string, kv ...any) *Error {
	return &Error{Code: Invalid, Msg: M("err.invalid"), Fields: map[string]Msg{field: M(msgID, kv...)}}
}

// Wrap turns an unexpected error into an internal one; the cause is logged,
// never shown. Errors that already are *Error pass through.
func Wrap(err error, context string) error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return err
	}
	return unexpected(fmt.Errorf("%s: %w", context, err))
}

// transient tells an error that means "the database cannot be reached
// right now": a call worth trying again shortly. The database package
// registers its test when it is loaded (SetTransient), so every service
// error that passes Wrap or From gets the code Unavailable — the services
// turn it into a code, and the faces only map codes to statuses, without
// knowing the database.
var transient atomic.Pointer[func(error) bool]

// SetTransient registers the test for "cannot be reached right now".
func SetTransient(test func(error) bool) { transient.Store(&test) }

// unexpected is the error for a cause no service expected: unavailable
// when it is transient, internal otherwise.
func unexpected(cause error) *Error {
	if t := transient.Load(); t != nil && (*t)(cause) {
		return &Error{Code: Unavailable, Msg: M("err.unavailable"), Cause: cause}
	}
	return &Error{Code: Internal, Msg: M("err.internal"), Cause: cause}
}

// From returns the *Error in err's chain, or an internal error around err.
func From(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	return unexpected(err)
}

// Is reports whether err carries the given code.
func Is(err error, code string) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.Code == code
}
