package web

import (
	"net/http"

	"treffpunkt/internal/apperr"
)

// statusByCode is how pages (and the scanner page's JSON calls) answer each
// apperr code; the API decides its own (api.Status).
var statusByCode = map[string]int{
	apperr.Invalid:          http.StatusUnprocessableEntity,
	apperr.NotFound:         http.StatusNotFound,
	apperr.Full:             http.StatusConflict,
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

// httpStatus is the page's HTTP status for an error; an unknown code is a 500.
func httpStatus(ae *apperr.Error) int {
	if s, ok := statusByCode[ae.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
