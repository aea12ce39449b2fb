package api

import (
	"net/http"

	"treffpunkt/internal/apperr"
)

// statusByCode is the API's HTTP status for each apperr code, part of the
// contract in docs/api.md.
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

// Status is the API's HTTP status for an error; an unknown code is a 500.
func Status(ae *apperr.Error) int {
	if s, ok := statusByCode[ae.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
