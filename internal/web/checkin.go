package web

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/checkin"
	"treffpunkt/internal/httpcode"
	"treffpunkt/web"
)

// checkinRoutes mounts the door (docs/checkin.md): /checkin lists the events
// a signed-in user may admit to, /checkin/events/:slug is the scanner page
// and its JSON calls (session + CSRF header, same service as the API). The
// service worker and the manifest are public files.
func (s *server) checkinRoutes(r *gin.Engine) {
	r.GET("/checkin/sw.js", s.checkinFile("checkin/sw.js", "text/javascript; charset=utf-8"))
	r.GET("/checkin/manifest.webmanifest", s.checkinFile("checkin/manifest.webmanifest", "application/manifest+json"))

	g := r.Group("/checkin", s.requireUser)
	g.GET("", s.checkinHome)
	e := g.Group("/events/:slug", s.requireDoor)
	e.GET("", s.checkinPage)
	e.POST("/scan", s.checkinScan)
	e.POST("/decode", s.checkinDecode)
	e.POST("/undo", s.checkinUndo)
	e.GET("/counts", s.checkinCounts)
	e.GET("/search", s.checkinSearch)
	e.POST("/walkin", s.checkinWalkIn)
	r.POST("/t/:code/checkin", s.requireUser, s.ticketCheckin)
}

const ctxCheckinEvent = "web.checkin_event"

// requireDoor admits a user with at least the door role in the
// organisation of the event :slug; an event of an organisation where they
// have no role is a 404, as if it did not exist.
func (s *server) requireDoor(c *gin.Context) {
	ctx := c.Request.Context()
	ev, err := s.Checkins.Lookup(ctx, c.Param("slug"))
	if err == nil {
		var p *auth.Principal
		if p, err = s.Auth.PrincipalFor(ctx, user(c), ev.OrgSlug); err == nil {
			if p.Can(auth.Door) {
				c.Set(ctxPrincipal, p)
				c.Set(ctxCheckinEvent, ev)
				c.Next()
				return
			}
			err = apperr.New(apperr.Forbidden, "err.forbidden")
		}
	}
	if c.Request.Method == http.MethodGet && c.FullPath() == "/checkin/events/:slug" {
		_ = c.Error(err)
	} else {
		s.checkinJSONError(c, err)
	}
	c.Abort()
}

func checkinEvent(c *gin.Context) *checkin.Event {
	return c.MustGet(ctxCheckinEvent).(*checkin.Event)
}

// checkinJSONError answers a scanner page's JSON call with the API's error body.
func (s *server) checkinJSONError(c *gin.Context, err error) {
	ae := apperr.From(err)
	if ae.Code == apperr.Internal {
		s.Log.Error("internal error", "request_id", c.GetString(httpcode.CtxRequestID), "route", c.FullPath(), "error", ae.Error())
	}
	c.JSON(httpcode.Of(ae), httpcode.ErrorJSON(localizer(c), ae))
}

// checkinFile serves a file of the scanner app from web/static/checkin
// under /checkin, so that the service worker's scope covers the pages.
func (s *server) checkinFile(name, contentType string) gin.HandlerFunc {
	return func(c *gin.Context) {
		b, err := web.FS.ReadFile("static/" + name)
		if err != nil {
			_ = c.Error(apperr.Wrap(err, "checkin file"))
			return
		}
		c.Header("Service-Worker-Allowed", "/checkin")
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, contentType, b)
	}
}

type checkinHomePage struct {
	Events []checkin.Event
}

// checkinHome is GET /checkin: today's and upcoming events of the
// organisations where the user has a role.
func (s *server) checkinHome(c *gin.Context) {
	ctx := c.Request.Context()
	u := user(c)
	ms, err := s.Auth.Memberships(ctx, u)
	if err != nil {
		_ = c.Error(err)
		return
	}
	ids := make([]int64, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.OrgID)
	}
	evs, err := s.Checkins.Events(ctx, ids, u.Admin)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.render(c, http.StatusOK, "checkin", localizer(c).T("checkin.title", nil), checkinHomePage{Events: evs})
}

type checkinScanPage struct {
	Event  *checkin.Event
	Days   []string
	Day    string
	Today  string
	Counts *checkin.Counts
	When   string
	// WalkIn is the walk-in form (checkin_walkin.go) as posted, with its
	// errors; empty on a fresh page.
	WalkIn walkInForm
	// Sessions are the event's sessions a door may admit to, Session the
	// one picked (?session=); "" is the event's own door.
	Sessions []option
	Session  string
}

// checkinPage is GET /checkin/events/:slug[?day=]: the scanner.
func (s *server) checkinPage(c *gin.Context) {
	s.renderCheckinPage(c, http.StatusOK, walkInForm{})
}

func (s *server) renderCheckinPage(c *gin.Context, status int, walkIn walkInForm) {
	ev := checkinEvent(c)
	days := ev.Days()
	today := ev.Today(time.Now())
	day := c.Query("day")
	if !slices.Contains(days, day) {
		day = today
		if !slices.Contains(days, day) && len(days) > 0 {
			day = days[0]
		}
	}
	n, err := s.Checkins.Count(c.Request.Context(), ev, day)
	if err != nil {
		_ = c.Error(err)
		return
	}
	loc := ev.Location()
	sessions, session, err := s.doorSessions(c, ev.Slug)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.render(c, status, "checkin_scan", localizer(c).T("checkin.title", nil), checkinScanPage{
		Event: ev, Days: days, Day: day, Today: today, Counts: n, WalkIn: walkIn, Sessions: sessions, Session: session,
		When: ev.StartsAt.In(loc).Format("02.01.2006 15:04") + " – " + ev.EndsAt.In(loc).Format("02.01.2006 15:04"),
	})
}

// checkinScan is POST /checkin/events/:slug/scan with the API's JSON body.
func (s *server) checkinScan(c *gin.Context) {
	var in checkin.ScanInput
	if err := decodeCheckin(c, &in); err != nil {
		s.checkinJSONError(c, err)
		return
	}
	ev := checkinEvent(c)
	in.Event = ev.Slug
	res, err := s.Checkins.Scan(c.Request.Context(), principal(c), ev, in)
	if err != nil {
		s.checkinJSONError(c, err)
		return
	}
	s.Metrics.CheckIn(res.Result)
	c.JSON(http.StatusOK, res)
}

// checkinDecode is POST /checkin/events/:slug/decode with a camera frame
// (image/jpeg or image/png) as the body: {"text","code"} of the QR code in
// it, for browsers without BarcodeDetector. The page then scans the code.
func (s *server) checkinDecode(c *gin.Context) {
	frame, err := readFrame(c)
	if err != nil {
		s.checkinJSONError(c, err)
		return
	}
	d, err := checkin.DecodeFrame(c.Request.Context(), c.GetHeader("Content-Type"), frame)
	if err != nil {
		s.checkinJSONError(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// readFrame reads a camera frame's body, at most checkin.MaxFrameBytes.
func readFrame(c *gin.Context) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, checkin.MaxFrameBytes))
	var tooLarge *http.MaxBytesError
	if asMaxBytes(err, &tooLarge) {
		return nil, apperr.New(apperr.TooLarge, "err.too_large")
	}
	if err != nil {
		return nil, &apperr.Error{Code: apperr.BadRequest, Msg: apperr.M("checkin.err.image"), Cause: err}
	}
	return b, nil
}

// checkinUndo is POST /checkin/events/:slug/undo {"code","day"}.
func (s *server) checkinUndo(c *gin.Context) {
	var in checkin.UndoInput
	if err := decodeCheckin(c, &in); err != nil {
		s.checkinJSONError(c, err)
		return
	}
	ev := checkinEvent(c)
	res, err := s.Checkins.Undo(c.Request.Context(), principal(c), ev, in)
	if err != nil {
		s.checkinJSONError(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// checkinCounts is GET /checkin/events/:slug/counts?day=, polled by the page.
func (s *server) checkinCounts(c *gin.Context) {
	n, err := s.Checkins.Count(c.Request.Context(), checkinEvent(c), c.Query("day"))
	if err != nil {
		s.checkinJSONError(c, err)
		return
	}
	c.JSON(http.StatusOK, n)
}

// checkinSearch is GET /checkin/events/:slug/search?q=&day=.
func (s *server) checkinSearch(c *gin.Context) {
	ms, err := s.Checkins.Search(c.Request.Context(), checkinEvent(c), c.Query("q"), c.Query("day"))
	if err != nil {
		s.checkinJSONError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tickets": ms})
}

// ticketCheckin is POST /t/:code/checkin, the button that door staff see on
// a ticket page opened with a phone's camera: it checks the ticket in for
// its own event and shows the ticket page again with the verdict.
func (s *server) ticketCheckin(c *gin.Context) {
	ctx := c.Request.Context()
	r, _, err := s.Registrations.ByTicket(ctx, c.Param("code"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	ev, err := s.Checkins.Lookup(ctx, r.EventSlug)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p, err := s.Auth.PrincipalFor(ctx, user(c), ev.OrgSlug)
	if err != nil {
		_ = c.Error(err)
		return
	}
	res, err := s.Checkins.Scan(ctx, p, ev, checkin.ScanInput{Code: c.Param("code"), Event: ev.Slug})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.Metrics.CheckIn(res.Result)
	s.flash(c, "checkin.result."+res.Result)
	c.Redirect(http.StatusSeeOther, "/t/"+c.Param("code"))
}

// decodeCheckin reads a small JSON body strictly.
func decodeCheckin(c *gin.Context, dst any) error {
	d := json.NewDecoder(c.Request.Body)
	d.DisallowUnknownFields()
	if err := d.Decode(dst); err != nil {
		return apperr.New(apperr.BadRequest, "err.json")
	}
	return nil
}

// mayCheckIn reports whether the signed-in user (if any) works the door of
// the organisation orgSlug.
func (s *server) mayCheckIn(c *gin.Context, orgSlug string) bool {
	u := user(c)
	if u == nil {
		return false
	}
	p, err := s.Auth.PrincipalFor(c.Request.Context(), u, orgSlug)
	return err == nil && p.Can(auth.Door)
}
