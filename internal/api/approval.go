package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/config"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/registration"
)

// Selection by approval (issue 19, docs/api.md): organisers approve or
// decline applications. Door staff are refused by the staff group
// (requireStaff(auth.Organiser)); every decision is audit-logged.

// regParam is the registration id in :id; one that is not a number is not
// found, like one of another event.
func regParam(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "err.registration_not_found")
	}
	return id, nil
}

// approveRegistration is POST /orgs/:org/events/:slug/registrations/:id/approve.
func (h *handler) approveRegistration(c *gin.Context) {
	e, err := h.Events.GetForOrg(c.Request.Context(), principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	id, err := regParam(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var r *registration.Registration
	err = h.audited(c, audit.Entry{Action: audit.RegistrationApprove, Target: e.Slug, Details: map[string]any{"registration_id": id}},
		func(ctx context.Context) (err error) {
			r, err = h.Registrations.Approve(ctx, e.ID, id)
			return err
		})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.toRegistrationJSON(r))
}

type approveManyRequest struct {
	IDs []int64 `json:"ids"`
}

// approveRegistrations is POST /orgs/:org/events/:slug/registrations/approve
// with {"ids": [...]}: approved in the given order until the first that
// does not fit (registration.ApproveMany).
func (h *handler) approveRegistrations(c *gin.Context) {
	// The event first: another organisation's is a 404 whatever the body.
	e, err := h.Events.GetForOrg(c.Request.Context(), principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	var req approveManyRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	var out *registration.Approval
	details := map[string]any{"ids": req.IDs}
	err = h.audited(c, audit.Entry{Action: audit.RegistrationApprove, Target: e.Slug, Details: details},
		func(ctx context.Context) (err error) {
			out, err = h.Registrations.ApproveMany(ctx, e.ID, req.IDs)
			if err == nil {
				details["approved"] = len(out.Approved)
			}
			return err
		})
	if err != nil {
		_ = c.Error(err)
		return
	}
	j := gin.H{"approved": make([]registrationJSON, len(out.Approved)), "skipped": out.Skipped}
	if out.Skipped == nil {
		j["skipped"] = []int64{}
	}
	for i, r := range out.Approved {
		j["approved"].([]registrationJSON)[i] = h.toRegistrationJSON(r)
	}
	if out.StoppedAt != 0 {
		j["stopped_at"] = out.StoppedAt
		j["error"] = httpcode.ErrorJSON(httpcode.Localizer(c), apperr.New(apperr.Full, "err.full"))["error"]
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, j)
}

type declineRequest struct {
	// Reason is a plain string (for every language) or an object of texts
	// per language.
	Reason json.RawMessage `json:"reason"`
}

// declineRegistration is POST /orgs/:org/events/:slug/registrations/:id/decline
// with an optional body {"reason": "…" | {"de": "…", …}}.
func (h *handler) declineRegistration(c *gin.Context) {
	e, err := h.Events.GetForOrg(c.Request.Context(), principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	var req declineRequest
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			_ = c.Error(err)
			return
		}
	}
	reason, err := parseReason(req.Reason)
	if err != nil {
		_ = c.Error(err)
		return
	}
	id, err := regParam(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var r *registration.Registration
	err = h.audited(c, audit.Entry{Action: audit.RegistrationDecline, Target: e.Slug,
		Details: map[string]any{"registration_id": id, "reason": reason != nil}},
		func(ctx context.Context) (err error) {
			r, err = h.Registrations.Decline(ctx, e.ID, id, reason)
			return err
		})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.toRegistrationJSON(r))
}

// parseReason reads a reason given as a string or as texts per language
// (keys: the supported languages).
func parseReason(raw json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var plain string
	if err := json.Unmarshal(raw, &plain); err == nil {
		return map[string]string{"": plain}, nil
	}
	var texts map[string]string
	if err := json.Unmarshal(raw, &texts); err != nil {
		return nil, apperr.Field("reason", "err.approval.reason")
	}
	for lang := range texts {
		if !slices.Contains(config.Languages, lang) {
			return nil, apperr.Field("reason", "err.approval.reason")
		}
	}
	return texts, nil
}

// byStatus keeps the registrations with status, all when it is "".
func byStatus(rs []*registration.Registration, status string) ([]*registration.Registration, error) {
	if status == "" {
		return rs, nil
	}
	if !slices.Contains(registration.Statuses, status) {
		return nil, apperr.Field("status", "err.choice")
	}
	out := rs[:0:0]
	for _, r := range rs {
		if r.Status == status {
			out = append(out, r)
		}
	}
	return out, nil
}
