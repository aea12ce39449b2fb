// Package org holds the network's member organisations.
package org

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
	"treffpunkt/internal/text"
)

// Org is a member organisation of the network.
type Org struct {
	ID      int64  `db:"id"`
	Slug    string `db:"slug"`
	Name    string `db:"name"`
	Email   string `db:"email"`
	Address string `db:"address"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Service reads and adds organisations.
type Service struct {
	db *sqlx.DB
}

// New builds the organisations' service.
func New(db *sqlx.DB) *Service { return &Service{db: db} }

// Create adds an organisation.
func (s *Service) Create(ctx context.Context, o Org) (*Org, error) {
	o.Slug, o.Name, o.Email = strings.TrimSpace(o.Slug), strings.TrimSpace(o.Name), strings.TrimSpace(o.Email)
	f := apperr.Fields{}
	if !slugRE.MatchString(o.Slug) {
		f.Add("slug", "err.slug")
	}
	if o.Name == "" {
		f.Add("name", "err.required")
	} else if p := text.Problem(o.Name, 200); p != "" {
		f.Add("name", p, "Max", 200)
	}
	if o.Email != "" {
		if _, p := text.Email(o.Email); p != "" {
			f.Add("email", p)
		}
	}
	if p := text.Problem(o.Address, 300); p != "" {
		f.Add("address", p, "Max", 300)
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	err := s.db.GetContext(ctx, &o.ID, `
INSERT INTO organisations (slug, name, email, address) VALUES ($1, $2, $3, $4) RETURNING id`,
		o.Slug, o.Name, o.Email, o.Address)
	if database.IsUniqueViolation(err, "organisations_slug_key") {
		return nil, apperr.Field("slug", "err.slug_taken")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "create organisation")
	}
	return &o, nil
}

// BySlug returns one organisation.
func (s *Service) BySlug(ctx context.Context, slug string) (*Org, error) {
	var o Org
	err := s.db.GetContext(ctx, &o, `SELECT id, slug, name, email, address FROM organisations WHERE slug = $1`, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "err.org_not_found")
	}
	if err != nil {
		return nil, apperr.Wrap(fmt.Errorf("organisation %q: %w", slug, err), "get organisation")
	}
	return &o, nil
}

// List returns every organisation by name.
func (s *Service) List(ctx context.Context) ([]Org, error) {
	var out []Org
	err := s.db.SelectContext(ctx, &out, `SELECT id, slug, name, email, address FROM organisations ORDER BY name`)
	return out, apperr.Wrap(err, "list organisations")
}
