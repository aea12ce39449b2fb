package main

import (
	"errors"
	"sort"
	"strings"

	"treffpunkt/internal/app"
	"treffpunkt/internal/apperr"
)

// cliError spells out an application error in English for the terminal,
// naming each bad field.
func cliError(err error) error {
	ae := apperr.From(err)
	if ae.Code == apperr.Internal {
		return err
	}
	cat, lerr := app.Catalogue("en")
	if lerr != nil {
		return err
	}
	l := cat.For("en")
	parts := []string{l.T(ae.Msg.ID, ae.Msg.Data)}
	var fields []string
	for f := range ae.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		m := ae.Fields[f]
		parts = append(parts, "--"+f+": "+l.T(m.ID, m.Data))
	}
	return errors.New(strings.Join(parts, "\n  "))
}
