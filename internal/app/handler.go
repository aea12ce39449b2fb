package app

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/api"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/web"
)

// Handler is the whole HTTP side: the JSON API under /api/, the pages
// everywhere else. Neither face knows the other; each runs the shared
// middleware (httpcode) and writes its own errors.
type Handler struct {
	api *api.Handler
	web *web.Handler
}

// ServeHTTP sends a request to its face.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		h.api.ServeHTTP(w, r)
		return
	}
	h.web.ServeHTTP(w, r)
}

// Routes lists the routes of both faces, so that tests can prove every
// route is covered by the authorisation table.
func (h *Handler) Routes() gin.RoutesInfo {
	return append(h.web.Routes(), h.api.Routes()...)
}

// Handler builds both faces. The sign-up limits are one set for both, so
// that a client is counted once whether it signs up by form or by API.
func (a *App) Handler() (*Handler, error) {
	limits := httpcode.NewLimits(a.Config, a.Metrics)
	w, err := web.New(web.Deps{
		Config: a.Config, Log: a.Log, Catalogue: a.Catalogue,
		Events: a.Events, Registrations: a.Registrations, Orgs: a.Orgs, Auth: a.Auth,
		Members: a.Members, Checkins: a.Checkins, Calendar: a.Calendar, Messages: a.Messages,
		SessionStore: a.sessionStore(),
		Ready:        a.DB.PingContext,
		Metrics:      a.Metrics,
		Audit:        a.Audit,
		Limits:       limits,
	})
	if err != nil {
		return nil, err
	}
	j, err := api.New(api.Deps{
		Config: a.Config, Log: a.Log, Catalogue: a.Catalogue,
		Events: a.Events, Registrations: a.Registrations, Orgs: a.Orgs, Auth: a.Auth,
		Members: a.Members, Checkins: a.Checkins, Messages: a.Messages,
		Metrics: a.Metrics,
		Audit:   a.Audit,
		Limits:  limits,
	})
	if err != nil {
		return nil, err
	}
	return &Handler{api: j, web: w}, nil
}
