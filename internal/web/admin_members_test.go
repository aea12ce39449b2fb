package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/testapp"
)

// upload posts a member list file with the session's CSRF token.
func (c *admClient) upload(path, mode, file string) (int, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf_token", c.csrf)
	_ = mw.WriteField("mode", mode)
	fw, _ := mw.CreateFormFile("file", "mitglieder.csv")
	_, _ = fw.Write([]byte(file))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.base)
	resp, err := c.Client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, admRead(c.t, resp)
}

// A file from German Excel (BOM, ';', dates as 31.12.2027) is taken; a
// file with errors is refused whole, with every bad line by number; merge
// adds and updates, replace makes the list the file.
func TestMemberUploadReportsErrorsPerLineThenMergesOrReplaces(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "a")
	a.Staff(t, o, "organiser@a.example", auth.Organiser, false)
	c := (&admWorld{App: a, t: t}).client("organiser@a.example")

	code, page := c.upload("/admin/orgs/a/members", "merge", "\uFEFFname;email;member_number;valid_until\r\n"+
		"Ayşe Yılmaz;ayse@example.org;M-001;31.12.2027\r\n"+
		"Иван Петров;;M-002;\r\n"+
		"\"Müller; Jürgen\";juergen@example.org;;2027-06-30\r\n")
	if code != http.StatusOK || !strings.Contains(page, `id="upload-result"`) || !strings.Contains(page, "3 neu") {
		t.Fatalf("upload: %d\n%.1500s", code, page)
	}
	if n := a.Count(t, `SELECT count(*) FROM members WHERE org_id = $1 AND valid_until = '2027-12-31' AND name = 'Ayşe Yılmaz'`, o.ID); n != 1 {
		t.Fatalf("German date or name not stored")
	}
	for _, want := range []string{"Müller; Jürgen", "Иван Петров", "3 von 3 Mitgliedern"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}

	code, page = c.upload("/admin/orgs/a/members", "replace", "name,email,member_number,valid_until\n"+
		"Gut,gut@example.org,,\n"+
		"Schlecht,keine-adresse,,\n"+
		",leer@example.org,,\n"+
		"Datum,datum@example.org,,30.02.2027\n"+
		"Doppelt,,M-001,\n"+
		"Nochmal,,M-001,\n"+
		"Ohne,,,\n")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad file: %d", code)
	}
	for _, want := range []string{"Zeile 3 (email)", "Zeile 4 (name)", "Zeile 5 (valid_until)", "Zeile 7 (member_number)", "Zeile 8 (email)"} {
		if !strings.Contains(page, want) {
			t.Errorf("errors lack %q", want)
		}
	}
	if strings.Contains(page, "Zeile 2 ") || strings.Contains(page, "Zeile 6 ") {
		t.Errorf("a good line is reported")
	}
	if n := a.Count(t, `SELECT count(*) FROM members`); n != 3 {
		t.Fatalf("a refused file changed the list: %d members", n)
	}

	code, page = c.upload("/admin/orgs/a/members", "merge", "name,email,member_number\nAyşe Yılmaz-Demir,ayse@example.org,M-001\nNeu,neu@example.org,\n")
	if code != http.StatusOK || !strings.Contains(page, "1 neu, 1 geändert, 0 entfernt") {
		t.Fatalf("merge: %d\n%.1500s", code, page)
	}
	code, page = c.upload("/admin/orgs/a/members", "replace", "name,member_number\nNur ich,M-009\n")
	if code != http.StatusOK || !strings.Contains(page, "1 neu, 0 geändert, 4 entfernt") {
		t.Fatalf("replace: %d", code)
	}
	if n := a.Count(t, `SELECT count(*) FROM members`); n != 1 {
		t.Fatalf("after replace: %d members", n)
	}
	for name, file := range map[string]string{
		"empty":          "",
		"unknown column": "name,email,telefon\nA,a@example.org,0511\n",
		"no header":      "Ayşe,ayse@example.org\n",
	} {
		if code, page := c.upload("/admin/orgs/a/members", "merge", file); code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="errors"`) {
			t.Errorf("%s: %d", name, code)
		}
	}
}

// A token is shown once, works on the API, is stored as a hash and can be
// revoked by the owner.
func TestOwnerCreatesATokenShownOnceAndRevokesIt(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	owner := w.client(w.A.Owner)
	resp, page := owner.post("/admin/orgs/a/tokens", url.Values{"name": {"Export-Skript"}, "role": {"organiser"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	i := strings.Index(page, `id="new-token">`)
	if i < 0 {
		t.Fatalf("the new token is not shown")
	}
	tok := page[i+len(`id="new-token">`):]
	tok = tok[:strings.Index(tok, "<")]
	if !strings.HasPrefix(tok, "tp_") {
		t.Fatalf("token %q", tok)
	}
	if code, _ := admAPI(t, w.URL, "GET", "/api/v1/orgs/a/events", tok, "", ""); code != http.StatusOK {
		t.Fatalf("new token on the API: %d", code)
	}
	if n := w.Count(t, `SELECT count(*) FROM api_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8')) AND name = 'Export-Skript'`, tok); n != 1 {
		t.Fatalf("token not stored as its hash")
	}
	_, page = owner.Get("/admin/orgs/a/tokens")
	if strings.Contains(page, tok) || !strings.Contains(page, "Export-Skript") {
		t.Fatalf("the token list shows the secret or lacks the token")
	}
	var id int64
	if err := w.DB.Get(&id, `SELECT id FROM api_tokens WHERE name = 'Export-Skript'`); err != nil {
		t.Fatal(err)
	}
	resp, _ = owner.post("/admin/orgs/a/tokens/"+strconv.FormatInt(id, 10)+"/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if code, _ := admAPI(t, w.URL, "GET", "/api/v1/orgs/a/events", tok, "", ""); code != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d, want 401", code)
	}
	if resp, _ := owner.post("/admin/orgs/a/tokens", url.Values{"name": {"x"}, "role": {"owner"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("owner token from the web: %d, want 422", resp.StatusCode)
	}
}
