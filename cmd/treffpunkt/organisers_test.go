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

// The command line lists and revokes every token of an organisation,
// network-admin tokens included, which the organisation's owners cannot.
func TestTokenListAndRevokeFromTheCommandLine(t *testing.T) {
	db, url := testdb.NewWithURL(t)
	t.Setenv("DATABASE_URL", url)
	if _, err := cli(t, "", "org", "add", "--slug", "miso", "--name", "MiSO e. V."); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "", "token", "add", "--org", "miso", "--admin", "--name", "network"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "", "token", "add", "--org", "miso", "--role", "door", "--name", "door phone"); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, "", "token", "list", "--org", "miso")
	if err != nil || !strings.Contains(out, "network-admin\tnetwork") || !strings.Contains(out, "door\tdoor phone") {
		t.Fatalf("token list: %v\n%s", err, out)
	}
	var id string
	if err := db.Get(&id, `SELECT id::text FROM api_tokens WHERE is_admin`); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, "", "token", "revoke", "--org", "miso", "--id", id); err != nil {
		t.Fatalf("token revoke: %v\n%s", err, out)
	}
	var revoked bool
	if err := db.Get(&revoked, `SELECT revoked_at IS NOT NULL FROM api_tokens WHERE is_admin`); err != nil || !revoked {
		t.Fatalf("network-admin token revoked: %v %v", revoked, err)
	}
	if _, err := cli(t, "", "token", "revoke", "--org", "miso", "--id", "999999"); err == nil {
		t.Error("revoking an unknown token succeeded")
	}
}
