package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"treffpunkt/internal/auth"
)

// PUT /orgs/{org}/members replaces the list from CSV, merges with
// ?mode=merge, takes JSON too, and refuses a list with errors whole,
// naming each bad line.
func TestPutMembersReplacesOrMergesFromCSVOrJSON(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	tok := a.token(o.ID, auth.Organiser)
	put := func(query, contentType, body string) *response {
		return a.do(request{Method: http.MethodPut, Path: "/api/v1/orgs/miso/members" + query, ContentType: contentType, Body: body, Token: tok})
	}

	r := put("", "text/csv; charset=utf-8", "\uFEFFname;email;member_number;valid_until\nAyşe Yılmaz;ayse@example.org;M-1;31.12.2027\nИван;ivan@example.org;;\n")
	r.wantStatus(t, http.StatusOK)
	if m := r.object(t); fmt.Sprint(m["added"]) != "2" || fmt.Sprint(m["total"]) != "2" {
		t.Fatalf("replace: %v", m)
	}
	r = put("?mode=merge", "application/json", `{"members": [{"name": "فاطمة", "email": "fatima@example.org", "member_number": "M-2", "valid_until": "2027-06-30"}]}`)
	r.wantStatus(t, http.StatusOK)
	if m := r.object(t); fmt.Sprint(m["added"]) != "1" || fmt.Sprint(m["removed"]) != "0" || fmt.Sprint(m["total"]) != "3" {
		t.Fatalf("merge: %v", m)
	}
	r = put("", "application/json", `{"members": [{"name": "Nur ich", "member_number": "M-9"}]}`)
	if m := r.object(t); fmt.Sprint(m["removed"]) != "3" || fmt.Sprint(m["total"]) != "1" {
		t.Fatalf("replace from JSON: %v", m)
	}

	e := put("", "text/csv", "name,email,member_number,valid_until\nGut,gut@example.org,,\nSchlecht,nope,,\n,x@example.org,,31.02.2027\n").apiErr(t, http.StatusUnprocessableEntity, "invalid")
	for _, f := range []string{"line.3.email", "line.4.name", "line.4.valid_until"} {
		if e.Fields[f] == "" {
			t.Errorf("no error for %s: %v", f, e.Fields)
		}
	}
	if _, ok := e.Fields["line.2.email"]; ok {
		t.Errorf("a good line is reported")
	}
	e = put("", "application/json", `{"members": [{"name": "A", "email": "a@example.org"}, {"name": "B", "email": "A@example.org"}]}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	if e.Fields["members.2.email"] == "" {
		t.Errorf("duplicate in JSON: %v", e.Fields)
	}
	if n := a.count(`SELECT count(*) FROM members`); n != 1 {
		t.Fatalf("a refused list changed the members: %d", n)
	}

	put("", "text/plain", "name\nA\n").apiErr(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
	put("?mode=sometimes", "text/csv", "name,email\nA,a@example.org\n").apiErr(t, http.StatusUnprocessableEntity, "invalid")
	put("", "application/json", `{"members": [{"name": "A", "phone": "0511"}]}`).apiErr(t, http.StatusBadRequest, "bad_request")
	put("", "text/csv", "name,email\nA\xff,a@example.org\n").apiErr(t, http.StatusUnprocessableEntity, "invalid")

	// Bigger than other bodies, but bounded.
	big := "name,email\n" + strings.Repeat("Jemand Mit Langem Namen,jemand@example.org\n", 110000)
	put("", "text/csv", big).apiErr(t, http.StatusRequestEntityTooLarge, "too_large")
	many := "name,member_number\n"
	for i := range 3000 {
		many += "Mitglied," + fmt.Sprintf("%06d", i) + "\n"
	}
	put("", "text/csv", many).wantStatus(t, http.StatusOK)
	if n := a.count(`SELECT count(*) FROM members`); n != 3000 {
		t.Fatalf("members = %d, want 3000", n)
	}
}
