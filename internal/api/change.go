package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/registration"
)

// changeRequest is the body of PATCH /registrations/:token: every field is
// optional, an absent (or null) one stays as it is. Any other name is a 422
// naming it (decodeJSON).
type changeRequest struct {
	Name      *string `json:"name"`
	PartySize *int    `json:"party_size"`
	Lang      *string `json:"lang"`
	// Answers replace every answer when given.
	Answers  map[string]any `json:"answers"`
	Sessions *[]string      `json:"sessions"`
}

// changeRegistration is PATCH /registrations/:token: the participant
// changes their registration through its manage token and gets it back as
// the sign-up answered it.
func (h *handler) changeRegistration(c *gin.Context) {
	var req changeRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	r, err := h.Registrations.Change(c.Request.Context(), c.Param("token"), req.input())
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.toRegistrationJSON(r))
}

// changeRegistrationByOrganiser is PATCH
// /orgs/:org/events/:slug/registrations/:id: an organiser changes a
// registration of their event with the participant's rules (the
// participant is mailed as after their own change); audited with the
// names of the fields sent, never their values.
func (h *handler) changeRegistrationByOrganiser(c *gin.Context) {
	var req changeRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	ctx := c.Request.Context()
	e, err := h.Events.GetForOrg(ctx, principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		_ = c.Error(apperr.New(apperr.NotFound, "err.registration_not_found"))
		return
	}
	details := map[string]any{"registration_id": id, "fields": req.fields()}
	if req.PartySize != nil {
		details["party_size"] = *req.PartySize
	}
	var r *registration.Registration
	err = h.audited(c, audit.Entry{Action: audit.RegistrationChange, Target: e.Slug, Details: details},
		func(ctx context.Context) (err error) {
			r, err = h.Registrations.ChangeByOrganiser(ctx, e.ID, id, req.input())
			return err
		})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.toRegistrationJSON(r))
}

func (req *changeRequest) input() registration.ChangeInput {
	return registration.ChangeInput{
		Name: req.Name, PartySize: req.PartySize, Lang: req.Lang, Answers: req.Answers, Sessions: req.Sessions,
	}
}

// fields names the fields the request sets, for the audit log.
func (req *changeRequest) fields() []string {
	out := []string{}
	for name, set := range map[string]bool{"name": req.Name != nil, "party_size": req.PartySize != nil,
		"lang": req.Lang != nil, "answers": req.Answers != nil, "sessions": req.Sessions != nil} {
		if set {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
