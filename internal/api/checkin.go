package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/checkin"
)

// registerCheckin mounts the door's API (docs/checkin.md). The routes take
// the event in the body or query rather than in the path, so that a scanner
// app needs one URL; the event must belong to the token's organisation.
func registerCheckin(g *gin.RouterGroup, h *handler) *gin.RouterGroup {
	door := g.Group("/checkin", h.requireToken)
	door.POST("", h.checkin)
	door.POST("/undo", h.undoCheckin)
	door.POST("/decode", h.checkinDecode)
	door.GET("/counts", h.checkinCounts)
	door.GET("/search", h.checkinSearch)
	return door
}

// requireToken admits any valid bearer token; the handlers then ask the
// check-in service for the event, which checks role and organisation.
func (h *handler) requireToken(c *gin.Context) {
	p, ok := h.authenticate(c)
	if !ok {
		return
	}
	if !p.Can(auth.Door) {
		abort(c, apperr.New(apperr.Forbidden, "err.forbidden"))
		return
	}
	c.Set(ctxPrincipal, p)
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// checkin is POST /api/v1/checkin {"code","event","day","scan_id","scanned_at"}:
// every verdict is a 200 with "result"; only a bad request or an event the
// token may not see is an error.
func (h *handler) checkin(c *gin.Context) {
	var in checkin.ScanInput
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	ev, err := h.Checkins.EventFor(c.Request.Context(), principal(c), in.Event)
	if err != nil {
		_ = c.Error(err)
		return
	}
	res, err := h.Checkins.Scan(c.Request.Context(), principal(c), ev, in)
	if err != nil {
		_ = c.Error(err)
		return
	}
	h.Metrics.CheckIn(res.Result)
	c.JSON(http.StatusOK, res)
}

// checkinDecode is POST /api/v1/checkin/decode?event= with a camera frame
// (image/jpeg or image/png) as the body: {"text","code"} of the QR code in
// it, for scanner apps that cannot read QR codes themselves. The event
// scopes the call like the others: one of the token's organisation.
func (h *handler) checkinDecode(c *gin.Context) {
	if _, err := h.Checkins.EventFor(c.Request.Context(), principal(c), c.Query("event")); err != nil {
		_ = c.Error(err)
		return
	}
	frame, err := readLimited(c, checkin.MaxFrameBytes, "checkin.err.image")
	if err != nil {
		_ = c.Error(err)
		return
	}
	d, err := checkin.DecodeFrame(c.Request.Context(), c.GetHeader("Content-Type"), frame)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// undoCheckin is POST /api/v1/checkin/undo {"code","event","day"}.
func (h *handler) undoCheckin(c *gin.Context) {
	var in checkin.UndoInput
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	ev, err := h.Checkins.EventFor(c.Request.Context(), principal(c), in.Event)
	if err != nil {
		_ = c.Error(err)
		return
	}
	res, err := h.Checkins.Undo(c.Request.Context(), principal(c), ev, in)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// checkinCounts is GET /api/v1/checkin/counts?event=&day=.
func (h *handler) checkinCounts(c *gin.Context) {
	ev, err := h.Checkins.EventFor(c.Request.Context(), principal(c), c.Query("event"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	n, err := h.Checkins.Count(c.Request.Context(), ev, c.Query("day"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, n)
}

// checkinSearch is GET /api/v1/checkin/search?event=&q=&day=.
func (h *handler) checkinSearch(c *gin.Context) {
	ev, err := h.Checkins.EventFor(c.Request.Context(), principal(c), c.Query("event"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	ms, err := h.Checkins.Search(c.Request.Context(), ev, c.Query("q"), c.Query("day"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"tickets": ms})
}
