package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type auditRow struct {
	Actor, Action, Target, Details string
}

func auditRows(t *testing.T, w *admWorld, orgID int64) []auditRow {
	t.Helper()
	var rows []auditRow
	if err := w.DB.Select(&rows, `SELECT actor, action, target, details::text AS details FROM audit_log WHERE org_id = $1 ORDER BY id`, orgID); err != nil {
		t.Fatal(err)
	}
	return rows
}

// Every staff action in the organisers' area leaves one entry naming who,
// what and which, and none names an erased participant; a refused action
// leaves none. Owners read them newest first.
func TestAuditLogOfStaffActions(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	c := w.client(w.A.Owner)
	ok := func(what string, resp *http.Response, body string) {
		t.Helper()
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d\n%.500s", what, resp.StatusCode, body)
		}
	}
	base := "/admin/orgs/a"
	reg := fmt.Sprintf("%s/events/fest-a/registrations/%d", base, w.A.Confirmed.ID)

	f := admEventForm("sommerfest")
	f.Set("action", "draft")
	resp, body := c.post(base+"/new-event", f)
	ok("create", resp, body)
	bad := admEventForm("sommerfest")
	bad.Set("title_de", "")
	bad.Set("title_en", "")
	bad.Set("title_ar", "")
	if resp, _ := c.post(base+"/events/sommerfest", bad); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("refused change: %d", resp.StatusCode)
	}
	f.Set("capacity", "150")
	resp, body = c.post(base+"/events/sommerfest", f)
	ok("update", resp, body)
	resp, body = c.post(base+"/events/sommerfest/duplicate", nil)
	ok("duplicate", resp, body)
	for _, ext := range []string{"csv", "xlsx"} {
		if code, _, _ := c.do(http.MethodGet, base+"/events/fest-a/registrations."+ext); code != http.StatusOK {
			t.Fatalf("export %s: %d", ext, code)
		}
	}
	resp, body = c.post(reg+"/resend", nil)
	ok("resend", resp, body)
	resp, body = c.post(reg+"/cancel", nil)
	ok("cancel registration", resp, body)
	resp, body = c.post(reg+"/erase", nil)
	ok("erase", resp, body)
	if code, page := c.upload(base+"/members", "replace", "name,email\nMona,mona@example.org\n"); code != http.StatusOK && code != http.StatusSeeOther {
		t.Fatalf("members: %d %.300s", code, page)
	}
	resp, body = c.post(base+"/staff", url.Values{"email": {"neu@a.example"}, "role": {"door"}})
	ok("invite", resp, body)
	resp, body = c.post(fmt.Sprintf("%s/staff/%d/role", base, w.A.OrganiserID), url.Values{"role": {"door"}})
	ok("role", resp, body)
	resp, body = c.post(fmt.Sprintf("%s/staff/%d/remove", base, w.A.OrganiserID), nil)
	ok("remove", resp, body)
	resp, body = c.post(base+"/tokens", url.Values{"name": {"Scanner Eingang"}, "role": {"door"}})
	ok("token", resp, body)
	resp, body = c.post(fmt.Sprintf("%s/tokens/%d/revoke", base, w.A.TokenID), nil)
	ok("revoke", resp, body)
	resp, body = c.post(base+"/events/sommerfest/cancel", nil)
	ok("cancel event", resp, body)

	want := []auditRow{
		{Action: "events.create", Target: "sommerfest"},
		{Action: "events.update", Target: "sommerfest"},
		{Action: "events.duplicate", Target: "sommerfest"},
		{Action: "registrations.export", Target: "fest-a", Details: `"format": "csv"`},
		{Action: "registrations.export", Target: "fest-a", Details: `"format": "xlsx"`},
		{Action: "registration.resend", Target: "fest-a", Details: fmt.Sprintf(`"registration_id": %d`, w.A.Confirmed.ID)},
		{Action: "registration.cancel", Target: "fest-a"},
		{Action: "registration.erase", Target: "fest-a", Details: fmt.Sprintf(`"registration_id": %d`, w.A.Confirmed.ID)},
		{Action: "members.import", Details: `"mode": "replace"`},
		{Action: "staff.invite", Target: "neu@a.example", Details: `"role": "door"`},
		{Action: "staff.role", Target: w.A.Organiser, Details: `"role": "door"`},
		{Action: "staff.remove", Target: w.A.Organiser},
		{Action: "token.create", Target: "Scanner Eingang", Details: `"role": "door"`},
		{Action: "token.revoke", Target: fmt.Sprintf("#%d", w.A.TokenID)},
		{Action: "events.cancel", Target: "sommerfest"},
	}
	got := auditRows(t, w, w.A.Org.ID)
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, g := range got {
		x := want[i]
		if g.Actor != w.A.Owner || g.Action != x.Action || g.Target != x.Target || !strings.Contains(g.Details, x.Details) {
			t.Errorf("entry %d: %+v, want %+v by %s", i, g, x, w.A.Owner)
		}
		if strings.Contains(strings.ToLower(g.Target+g.Details), "ayse") || strings.Contains(g.Target+g.Details, "Ayşe") {
			t.Errorf("entry %d names the erased participant: %+v", i, g)
		}
	}
	if n := w.Count(t, `SELECT count(*) FROM audit_log WHERE org_id = $1`, w.B.Org.ID); n != 0 {
		t.Errorf("B has %d entries", n)
	}

	// The owners' page: newest first, translated, only for owners.
	code, _, page := c.do(http.MethodGet, base+"/audit")
	if code != http.StatusOK {
		t.Fatalf("audit page: %d", code)
	}
	first := strings.Index(page, `data-action="events.cancel"`)
	last := strings.Index(page, `data-action="events.create"`)
	if first < 0 || last < 0 || first > last || !strings.Contains(page, "Veranstaltung abgesagt") || !strings.Contains(page, w.A.Owner) {
		t.Fatalf("audit page not newest first or untranslated:\n%.2000s", page)
	}
	for _, who := range []string{w.B.Owner, w.A.Door} {
		if code, _, _ := w.client(who).do(http.MethodGet, base+"/audit"); code != http.StatusForbidden && code != http.StatusNotFound {
			t.Errorf("%s reads A's audit log: %d", who, code)
		}
	}
}

// Staff API calls are logged with their token; owners read the log through
// the API too.
func TestAuditLogOfAPICalls(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	tok := w.A.OrganiserTok
	var tokID int64
	if err := w.DB.Get(&tokID, `SELECT id FROM api_tokens WHERE org_id = $1 AND role = 'organiser'`, w.A.Org.ID); err != nil {
		t.Fatal(err)
	}
	if code := w.JSON(t, http.MethodPatch, "/api/v1/orgs/a/events/fest-a", tok, map[string]any{"capacity": 5}, nil); code != http.StatusOK {
		t.Fatalf("patch: %d", code)
	}
	if code := w.JSON(t, http.MethodPatch, "/api/v1/orgs/a/events/fest-a", tok, map[string]any{"capacity": "viele"}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad patch: %d", code)
	}
	if code := w.JSON(t, http.MethodGet, "/api/v1/orgs/a/events/fest-a/registrations", tok, nil, nil); code != http.StatusOK {
		t.Fatalf("list: %d", code)
	}
	if code, _ := admAPI(t, w.URL, "GET", "/api/v1/orgs/a/events/fest-a/registrations.csv", tok, "", ""); code != http.StatusOK {
		t.Fatalf("csv: %d", code)
	}
	if code, _ := admAPI(t, w.URL, "PUT", "/api/v1/orgs/a/members", tok, "text/csv", "name,email\nMona,mona@example.org\n"); code != http.StatusOK {
		t.Fatalf("members: %d", code)
	}
	if code := w.JSON(t, http.MethodPost, "/api/v1/orgs/a/events/fest-a/cancel", tok, nil, nil); code != http.StatusOK {
		t.Fatalf("cancel: %d", code)
	}
	var out struct {
		Entries []struct {
			Actor, Action, Target string
			Details               map[string]any
		} `json:"entries"`
	}
	if code := w.JSON(t, http.MethodGet, "/api/v1/orgs/a/audit", tok, nil, nil); code != http.StatusForbidden {
		t.Fatalf("organiser token reads the audit log: %d", code)
	}
	if code := w.JSON(t, http.MethodGet, "/api/v1/orgs/a/audit", w.A.OwnerTok, nil, &out); code != http.StatusOK {
		t.Fatalf("owner token: %d", code)
	}
	var actions []string
	for _, e := range out.Entries {
		actions = append(actions, e.Action+" "+e.Target)
		if !strings.HasPrefix(e.Actor, fmt.Sprintf("API token #%d", tokID)) {
			t.Errorf("actor %q", e.Actor)
		}
	}
	if got := strings.Join(actions, ", "); got != "events.cancel fest-a, members.import , registrations.export fest-a, registrations.export fest-a, events.update fest-a" {
		t.Fatalf("entries newest first: %s", got)
	}
	if out.Entries[1].Details["format"] != "text/csv" || out.Entries[2].Details["format"] != "csv" || out.Entries[3].Details["format"] != "json" {
		t.Fatalf("details %+v", out.Entries)
	}
	b, _ := json.Marshal(out)
	if strings.Contains(string(b), "ayse") {
		t.Fatal("the log names a participant")
	}
}
