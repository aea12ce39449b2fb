package web

import (
	"net/http"
	"strings"

	"treffpunkt/internal/httpcode"
)

// pageCSP is the Content-Security-Policy of every page: scripts, styles,
// images, fetches and the check-in service worker come from this origin
// only. No 'unsafe-inline' anywhere: the templates hold no <script>,
// <style>, event-handler or style attributes (web/static/site.js does what
// onsubmit= did). frame-ancestors is appended per path.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; "

// secretPaths carry a secret in the URL (manage token, ticket code, email
// confirmation, personal feed, password link, certificate verification).
var secretPaths = []string{"/r/", "/t/", "/confirm/", "/feeds/", "/login/reset/", "/verify/"}

// securityHeaders sets the headers every page carries, before anything
// else runs, so that error pages and static files get them too (the API
// sets its own, api/headers.go).
//
//   - frame-ancestors 'none' (and X-Frame-Options: DENY), except under
//     /embed/, which member websites in FRAME_ANCESTORS may frame.
//   - Referrer-Policy strict-origin-when-cross-origin; no-referrer on paths
//     whose URL holds a secret (their handlers say so too), also on their
//     error pages. Their forms still pass the CSRF check: browsers send
//     Sec-Fetch-Site: same-origin, which nosurf accepts before Origin.
//   - HSTS for a year when BASE_URL is https.
func (s *server) securityHeaders(h http.Handler) http.Handler {
	https := s.Config.SecureCookies()
	embedAncestors := "frame-ancestors 'self'"
	for _, o := range s.Config.FrameAncestors {
		embedAncestors += " " + o
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		path := r.URL.Path
		switch {
		case strings.HasPrefix(path, "/embed/"):
			hd.Set("Content-Security-Policy", pageCSP+embedAncestors)
		default:
			hd.Set("Content-Security-Policy", pageCSP+"frame-ancestors 'none'")
			hd.Set("X-Frame-Options", "DENY")
		}
		referrer := "strict-origin-when-cross-origin"
		for _, p := range secretPaths {
			if strings.HasPrefix(path, p) {
				referrer = "no-referrer"
				break
			}
		}
		hd.Set("Referrer-Policy", referrer)
		httpcode.CommonHeaders(hd, https)
		h.ServeHTTP(w, r)
	})
}
