package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/org"
)

// orgSettingsJSON is an organisation with its notification settings.
type orgSettingsJSON struct {
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	Notify      string `json:"notify"`
	NotifyEmail string `json:"notify_email"`
	Lang        string `json:"lang"`
	Timezone    string `json:"timezone"`
}

func (h *handler) toOrgSettingsJSON(s *org.Settings) orgSettingsJSON {
	lang := s.Lang
	if lang == "" {
		lang = h.Config.DefaultLang
	}
	return orgSettingsJSON{Slug: s.Slug, Name: s.Name, Email: s.Email, Notify: s.Notify, NotifyEmail: s.To(), Lang: lang, Timezone: s.Timezone}
}

// getOrgSettings is GET /orgs/:org (owner).
func (h *handler) getOrgSettings(c *gin.Context) {
	s, err := h.Orgs.Settings(c.Request.Context(), principal(c).OrgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, h.toOrgSettingsJSON(s))
}

// updateOrgSettings is PATCH /orgs/:org (owner): notify, notify_email,
// lang, timezone; absent fields stay.
func (h *handler) updateOrgSettings(c *gin.Context) {
	var in org.SettingsInput
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	var s *org.Settings
	var details map[string]any
	if in.Notify != nil {
		details = map[string]any{"notify": *in.Notify}
	}
	err := h.audited(c, audit.Entry{Action: audit.OrgSettings, Target: c.Param("org"), Details: details}, func(ctx context.Context) (err error) {
		s, err = h.Orgs.UpdateSettings(ctx, principal(c).OrgID, in)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, h.toOrgSettingsJSON(s))
}
