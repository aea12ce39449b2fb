package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/calendar"
	"treffpunkt/internal/httpcode"
)

// The calendar feeds of DESIGN.md: /calendar.ics, /orgs/{org}/calendar.ics,
// /events/{slug}.ics, /series/{slug}.ics and /feeds/{token}.ics (docs/calendar.md). Their paths
// end in .ics, and they bypass the CSRF middleware (see NewRouter): they
// take no forms and must not set cookies, which would keep shared caches
// from storing them. Only these routes, read with GET or HEAD, bypass it:
// any other path that ends in .ics is a page like every other.

const (
	feedContentType = "text/calendar; charset=utf-8"
	// Calendar apps poll for themselves; five minutes spares the server
	// bursts without delaying a change noticeably.
	publicCacheControl   = "public, max-age=300"
	personalCacheControl = "private, max-age=300"
)

func isFeedRequest(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	if p == "/calendar.ics" {
		return true
	}
	for _, prefix := range []string{"/events/", "/feeds/", "/series/"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			name, ok := strings.CutSuffix(rest, ".ics")
			return ok && name != "" && !strings.Contains(name, "/")
		}
	}
	if rest, ok := strings.CutPrefix(p, "/orgs/"); ok {
		org, ok := strings.CutSuffix(rest, "/calendar.ics")
		return ok && org != "" && !strings.Contains(org, "/")
	}
	return false
}

// networkFeed serves /calendar.ics: every published event of the network.
func (s *server) networkFeed(c *gin.Context) { s.publicFeed(c, calendar.Query{}) }

// orgFeed serves /orgs/{org}/calendar.ics.
func (s *server) orgFeed(c *gin.Context) {
	o, err := s.Orgs.BySlug(c.Request.Context(), c.Param("org"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.publicFeed(c, calendar.Query{OrgSlug: o.Slug, OrgName: o.Name})
}

// eventOrFeed serves /events/{slug} (the page) and /events/{slug}.ics (the
// event's calendar): a Gin parameter takes the whole path segment, so both
// share one route.
func (s *server) eventOrFeed(c *gin.Context) {
	if slug, ok := strings.CutSuffix(c.Param("slug"), ".ics"); ok {
		s.publicFeed(c, calendar.Query{EventSlug: slug})
		return
	}
	s.eventPage(c)
}

// publicFeed answers a public feed with its ?kind= and ?lang= filters.
func (s *server) publicFeed(c *gin.Context, q calendar.Query) {
	q.Kind, q.Lang = c.Query("kind"), c.Query("lang")
	if err := calendar.CheckQuery(q.Kind, q.Lang); err != nil {
		_ = c.Error(err)
		return
	}
	filename := ""
	if q.EventSlug != "" {
		// The "add to calendar" file: apps open it, browsers save it so.
		filename = q.EventSlug + ".ics"
	}
	s.serveFeed(c, publicCacheControl, filename,
		func(ctx context.Context) (calendar.Stamp, error) { return s.Calendar.Stamp(ctx, q) },
		func(ctx context.Context) (calendar.Stamp, []byte, error) { return s.Calendar.Feed(ctx, q) })
}

// personalFeed serves /feeds/{token}.ics, one participant's registrations.
func (s *server) personalFeed(c *gin.Context) {
	token, ok := strings.CutSuffix(c.Param("token"), ".ics")
	lang := c.Query("lang")
	if !ok {
		_ = c.Error(httpcode.NotFound())
		return
	}
	if err := calendar.CheckQuery("", lang); err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("X-Robots-Tag", "noindex")
	s.serveFeed(c, personalCacheControl, "",
		func(ctx context.Context) (calendar.Stamp, error) { return s.Calendar.PersonalStamp(ctx, token, lang) },
		func(ctx context.Context) (calendar.Stamp, []byte, error) {
			return s.Calendar.PersonalFeed(ctx, token, lang)
		})
}

// serveFeed answers GET and HEAD. A conditional request or a HEAD is
// answered from the stamp, one small query, without rendering; a 304 is
// only ever sent for validators that belong to the current content.
func (s *server) serveFeed(c *gin.Context, cacheControl, filename string,
	stamp func(context.Context) (calendar.Stamp, error),
	feed func(context.Context) (calendar.Stamp, []byte, error)) {
	// The language middleware remembers ?lang= in a cookie; a feed is no
	// page, and a Set-Cookie would keep caches from storing it.
	c.Writer.Header().Del("Set-Cookie")
	r := c.Request
	if r.Method == http.MethodHead || conditional(r) {
		st, err := stamp(r.Context())
		if err != nil {
			_ = c.Error(err)
			return
		}
		if notModified(r, st) {
			writeValidators(c, st, cacheControl)
			c.Status(http.StatusNotModified)
			c.Writer.WriteHeaderNow()
			return
		}
		if r.Method == http.MethodHead {
			writeValidators(c, st, cacheControl)
			c.Header("Content-Type", feedContentType)
			c.Status(http.StatusOK)
			c.Writer.WriteHeaderNow()
			return
		}
	}
	st, body, err := feed(r.Context())
	if err != nil {
		_ = c.Error(err)
		return
	}
	writeValidators(c, st, cacheControl)
	if notModified(r, st) {
		// The data changed back between the two reads, or another instance
		// answered the stamp: the body's own validators decide.
		c.Status(http.StatusNotModified)
		c.Writer.WriteHeaderNow()
		return
	}
	c.Header("X-Content-Type-Options", "nosniff")
	if filename != "" {
		c.Header("Content-Disposition", `inline; filename="`+filename+`"`)
	}
	c.Data(http.StatusOK, feedContentType, body)
}

func writeValidators(c *gin.Context, st calendar.Stamp, cacheControl string) {
	h := c.Writer.Header()
	h.Set("ETag", st.ETag)
	if !st.LastModified.IsZero() {
		h.Set("Last-Modified", st.LastModified.UTC().Format(http.TimeFormat))
	}
	h.Set("Cache-Control", cacheControl)
}

func conditional(r *http.Request) bool {
	return r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != ""
}

// notModified applies RFC 9110 §13.2.2: If-None-Match (weak comparison)
// when present, else If-Modified-Since.
func notModified(r *http.Request, st calendar.Stamp) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, tag := range strings.Split(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == st.ETag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !st.LastModified.IsZero() {
		t, err := http.ParseTime(ims)
		return err == nil && !st.LastModified.Truncate(time.Second).After(t)
	}
	return false
}
