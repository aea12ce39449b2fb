// Package httpcode is the HTTP status of each apperr code, the one table
// both faces answer with: the API's status codes are part of its contract
// (docs/api.md), and the pages answer a failed form the same way. The
// domain never imports it; apperr keeps codes, messages and fields.
package httpcode

import (
	"net/http"

	"treffpunkt/internal/apperr"
)

var statusByCode = map[string]int{
	apperr.Invalid:          http.StatusUnprocessableEntity,
	apperr.NotFound:         http.StatusNotFound,
	apperr.Full:             http.StatusConflict,
	apperr.SessionFull:      http.StatusConflict,
	apperr.Closed:           http.StatusGone,
	apperr.MembersOnly:      http.StatusForbidden,
	apperr.Age:              http.StatusForbidden,
	apperr.Conflict:         http.StatusConflict,
	apperr.Forbidden:        http.StatusForbidden,
	apperr.Unauthorized:     http.StatusUnauthorized,
	apperr.RateLimited:      http.StatusTooManyRequests,
	apperr.TooLarge:         http.StatusRequestEntityTooLarge,
	apperr.UnsupportedMedia: http.StatusUnsupportedMediaType,
	apperr.BadRequest:       http.StatusBadRequest,
	apperr.Unavailable:      http.StatusServiceUnavailable,
	apperr.Internal:         http.StatusInternalServerError,
}

// Of is the HTTP status of an error; an unknown code is a 500.
func Of(ae *apperr.Error) int {
	if s, ok := statusByCode[ae.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
