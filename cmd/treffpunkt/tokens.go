package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"treffpunkt/internal/app"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/org"
)

// cliAdmin is whom the command line acts as: whoever runs it on the server
// may do what a network admin may, including listing and revoking the
// network-admin tokens that organisation owners never see.
var cliAdmin = &auth.Principal{Role: auth.Owner, Admin: true}

// tokenList prints an organisation's API tokens, network-admin ones
// included.
func tokenList(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("token list", flag.ContinueOnError)
	orgSlug := fs.String("org", "", "organisation slug")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withOrg(ctx, log, *orgSlug, func(a *app.App, o *org.Org) error {
		toks, err := a.Auth.Tokens(ctx, cliAdmin, o.ID)
		if err != nil {
			return cliError(err)
		}
		for _, t := range toks {
			role := t.Role
			if t.Admin {
				role = "network-admin"
			}
			state := "active"
			if t.RevokedAt != nil {
				state = "revoked " + t.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%d\t%s\t%s\tcreated %s\t%s\n", t.ID, role, t.Name, t.CreatedAt.UTC().Format(time.RFC3339), state)
		}
		return nil
	})
}

// tokenRevoke ends one of an organisation's API tokens at once.
func tokenRevoke(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("token revoke", flag.ContinueOnError)
	orgSlug := fs.String("org", "", "organisation slug")
	id := fs.Int64("id", 0, "token id (token list)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return withOrg(ctx, log, *orgSlug, func(a *app.App, o *org.Org) error {
		if err := a.Auth.RevokeToken(ctx, cliAdmin, o.ID, *id); err != nil {
			return cliError(err)
		}
		fmt.Fprintf(stdout, "token %d of %s revoked\n", *id, o.Slug)
		return nil
	})
}
