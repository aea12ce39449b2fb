package main

import (
	"strings"
	"testing"

	"treffpunkt/internal/testdb"
)

// `user add` makes an account that can sign in to the organisers' area, and
// `token add --admin` a network-admin token.
func TestUserAddAndAdminTokenForTheOrganisersArea(t *testing.T) {
	db, url := testdb.NewWithURL(t)
	t.Setenv("DATABASE_URL", url)
	if _, err := cli(t, "", "org", "add", "--slug", "miso", "--name", "MiSO e. V."); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "correct horse battery\n", "user", "add", "--email", "anna@miso.example", "--org", "miso", "--role", "owner"); err != nil {
		t.Fatalf("user add: %v", err)
	}
	var set bool
	if err := db.Get(&set, `SELECT password_set FROM staff_users WHERE email = 'anna@miso.example'`); err != nil || !set {
		t.Fatalf("account from user add: password_set %v, %v", set, err)
	}
	out, err := cli(t, "", "token", "add", "--org", "miso", "--admin", "--name", "network")
	if err != nil {
		t.Fatalf("token add --admin: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	tok := lines[len(lines)-1]
	var admin bool
	if err := db.Get(&admin, `SELECT is_admin FROM api_tokens WHERE token_hash = sha256($1::bytea)`, tok); err != nil || !admin {
		t.Fatalf("admin token: %v %v", admin, err)
	}
}
