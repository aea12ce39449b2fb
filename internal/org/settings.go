package org

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/text"
)

// Notification modes (issue 19, docs/organisers.md).
const (
	NotifyOff   = "off"
	NotifyEach  = "each"
	NotifyDaily = "daily"
)

// NotifyModes lists the modes.
var NotifyModes = []string{NotifyOff, NotifyEach, NotifyDaily}

// Settings are what an organisation's owners set about its notifications.
type Settings struct {
	Org
	Notify string `db:"notify"`
	// NotifyEmail is where notifications go; "" is the organisation's
	// address (To says which applies).
	NotifyEmail string `db:"notify_email"`
	// Lang is the organisation's language; "" is DEFAULT_LANG.
	Lang     string `db:"lang"`
	Timezone string `db:"timezone"`
	// NotifySince is when Notify last changed.
	NotifySince time.Time `db:"notify_since"`
}

// To is the address notifications go to ("" when there is none).
func (s *Settings) To() string {
	if s.NotifyEmail != "" {
		return s.NotifyEmail
	}
	return s.Email
}

// SettingsInput changes some settings; nil fields stay.
type SettingsInput struct {
	Notify      *string `json:"notify"`
	NotifyEmail *string `json:"notify_email"`
	Lang        *string `json:"lang"`
	Timezone    *string `json:"timezone"`
}

const selectSettings = `SELECT id, slug, name, email, address, notify, notify_email, lang, timezone, notify_since FROM organisations`

// Settings returns the organisation's settings.
func (s *Service) Settings(ctx context.Context, orgID int64) (*Settings, error) {
	var st Settings
	err := s.db.GetContext(ctx, &st, selectSettings+` WHERE id = $1`, orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.org_not_found")
	}
	return &st, apperr.Wrap(err, "organisation settings")
}

// Notifying returns the organisations whose notifications are on.
func (s *Service) Notifying(ctx context.Context) ([]Settings, error) {
	var out []Settings
	err := s.db.SelectContext(ctx, &out, selectSettings+` WHERE notify <> 'off' ORDER BY id`)
	return out, apperr.Wrap(err, "notifying organisations")
}

// UpdateSettings validates in and changes the settings it names.
func (s *Service) UpdateSettings(ctx context.Context, orgID int64, in SettingsInput) (*Settings, error) {
	cur, err := s.Settings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	next := *cur
	f := apperr.Fields{}
	if in.Notify != nil {
		if !slices.Contains(NotifyModes, *in.Notify) {
			f.Add("notify", "err.notify.mode")
		}
		next.Notify = *in.Notify
	}
	if in.NotifyEmail != nil {
		next.NotifyEmail = strings.TrimSpace(*in.NotifyEmail)
		if next.NotifyEmail != "" {
			addr, p := text.Email(next.NotifyEmail)
			if p != "" {
				f.Add("notify_email", p)
			}
			next.NotifyEmail = addr
		}
	}
	if in.Lang != nil {
		next.Lang = strings.TrimSpace(*in.Lang)
		if next.Lang != "" && !slices.Contains(config.Languages, next.Lang) {
			f.Add("lang", "err.lang")
		}
	}
	if in.Timezone != nil {
		next.Timezone = strings.TrimSpace(*in.Timezone)
		if _, err := time.LoadLocation(next.Timezone); err != nil || next.Timezone == "" || next.Timezone == "Local" {
			f.Add("timezone", "err.timezone")
		}
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	if next.Notify != NotifyOff && next.To() == "" {
		return nil, apperr.Field("notify_email", "err.required")
	}
	err = s.db.GetContext(ctx, &next, `
UPDATE organisations SET notify = $2, notify_email = $3, lang = $4, timezone = $5,
    notify_since = CASE WHEN notify = $2 THEN notify_since ELSE now() END
WHERE id = $1
RETURNING id, slug, name, email, address, notify, notify_email, lang, timezone, notify_since`,
		orgID, next.Notify, next.NotifyEmail, next.Lang, next.Timezone)
	if err != nil {
		return nil, apperr.Wrap(err, "update organisation settings")
	}
	return &next, nil
}
