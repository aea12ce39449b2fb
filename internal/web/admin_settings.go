package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/config"
	"treffpunkt/internal/org"
)

// settingsPage is the owners' page of the organisation's notifications
// (issue 19): off, each change, or a daily digest; to which address; in
// which language; in which time zone the digest's 07:00 is.
type settingsPage struct {
	adminFrame
	Settings *org.Settings
	Form     org.Settings
	Modes    []option
	Langs    []option
	Errors   map[string]string
}

func (s *server) renderSettings(c *gin.Context, status int, st *org.Settings, form org.Settings, errs map[string]string) {
	l := localizer(c)
	p := settingsPage{adminFrame: frame(c, "settings"), Settings: st, Form: form, Errors: errs}
	for _, m := range []option{
		{org.NotifyOff, "admin.settings.notify_off"}, {org.NotifyEach, "admin.settings.notify_each"}, {org.NotifyDaily, "admin.settings.notify_daily"},
	} {
		p.Modes = append(p.Modes, option{m.Value, l.T(m.Label, nil)})
	}
	p.Langs = append(p.Langs, option{"", l.T("admin.settings.lang_default", map[string]any{"Lang": s.Config.DefaultLang})})
	for _, lang := range config.Languages {
		p.Langs = append(p.Langs, option{lang, lang})
	}
	s.render(c, status, "admin_settings", l.T("admin.settings.heading", nil), p)
}

// settingsForm is GET /admin/orgs/:org/settings (owner).
func (s *server) settingsForm(c *gin.Context) {
	st, err := s.Orgs.Settings(c.Request.Context(), principal(c).OrgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.renderSettings(c, http.StatusOK, st, *st, nil)
}

// saveSettings is POST /admin/orgs/:org/settings (owner).
func (s *server) saveSettings(c *gin.Context) {
	p := principal(c)
	st, err := s.Orgs.Settings(c.Request.Context(), p.OrgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	in := org.SettingsInput{
		Notify: ptrTo(c.PostForm("notify")), NotifyEmail: ptrTo(strings.TrimSpace(c.PostForm("notify_email"))),
		Lang: ptrTo(c.PostForm("lang")), Timezone: ptrTo(strings.TrimSpace(c.PostForm("timezone"))),
	}
	if *in.NotifyEmail == st.Email {
		*in.NotifyEmail = "" // the organisation's address, wherever it moves
	}
	err = s.audited(c, audit.Entry{Action: audit.OrgSettings, Target: p.OrgSlug, Details: map[string]any{"notify": *in.Notify}}, func(ctx context.Context) error {
		_, err := s.Orgs.UpdateSettings(ctx, p.OrgID, in)
		return err
	})
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code == apperr.Invalid {
		form := *st
		form.Notify, form.NotifyEmail, form.Lang, form.Timezone = *in.Notify, *in.NotifyEmail, *in.Lang, *in.Timezone
		s.renderSettings(c, http.StatusUnprocessableEntity, st, form, translateFields(localizer(c), ae))
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.flash(c, "admin.settings.saved")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/settings")
}

func ptrTo(v string) *string { return &v }
