package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/checkin"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/i18n"
)

// apiCSP is for JSON answers, which nothing should render or frame.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

// maxUploadBytes bounds a member list upload: about 50,000 members (the
// pages' upload allows the same).
const maxUploadBytes = 4 << 20

// headers sets the headers every API answer carries, before anything else
// runs, so that its errors get them too.
func (h *handler) headers(next http.Handler) http.Handler {
	https := h.Config.SecureCookies()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", apiCSP)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		httpcode.CommonHeaders(hd, https)
		next.ServeHTTP(w, r)
	})
}

// bodyLimit is the body limit of a call: member lists and camera frames may
// be larger than the JSON bodies everything else takes.
func bodyLimit(r *http.Request) int64 {
	p := r.URL.Path
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.HasSuffix(p, "/members") && strings.HasPrefix(p, "/api/v1/orgs/") {
		return maxUploadBytes
	}
	// An event's picture (image.go), the only route that takes megabytes.
	if r.Method == http.MethodPut && strings.HasSuffix(p, "/image") && strings.HasPrefix(p, "/api/v1/orgs/") {
		return imageBodyBytes
	}
	// Camera frames for the server-side QR decoder (docs/checkin.md).
	if r.Method == http.MethodPost && p == "/api/v1/checkin/decode" {
		return checkin.MaxFrameBytes
	}
	return httpcode.MaxBodyBytes
}

// limitBody caps request bodies before anything reads them: a declared
// oversize is answered 413 at once, an undeclared one fails while it is
// read.
func (h *handler) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := bodyLimit(r)
		if r.ContentLength > limit {
			l := h.Catalogue.For(h.Catalogue.Match(nil, r.Header.Get("Accept-Language")))
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_ = json.NewEncoder(w).Encode(httpcode.ErrorJSON(l, apperr.New(apperr.TooLarge, "err.too_large")))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// language picks the language of the error messages: ?lang=, then the
// pages' lang cookie, then Accept-Language, then the default. Unlike the
// pages, the API remembers nothing in a cookie.
func (h *handler) language(c *gin.Context) {
	cookie, _ := c.Cookie("lang")
	lang := h.Catalogue.Match([]string{c.Query("lang"), cookie}, c.GetHeader("Accept-Language"))
	c.Set(httpcode.CtxLocalizer, h.Catalogue.For(lang))
	c.Next()
}

// errors answers the API's errors with DESIGN.md's JSON error.
func (h *handler) errors() httpcode.Errors {
	return httpcode.Errors{
		Log:      h.Log,
		Fallback: func() *i18n.Localizer { return h.Catalogue.For(h.Config.DefaultLang) },
		Write: func(c *gin.Context, ae *apperr.Error, l *i18n.Localizer) {
			c.JSON(httpcode.Of(ae), httpcode.ErrorJSON(l, ae))
		},
	}
}
