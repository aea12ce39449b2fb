package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
)

// TestStaffRoutesNeedAnOrganiserTokenOfTheOrg runs every staff route with
// every kind of caller; refused calls change nothing.
func TestStaffRoutesNeedAnOrganiserTokenOfTheOrg(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso, faust := a.org("miso"), a.org("faust")
	a.event(miso.ID, "konferenz", nil)
	tokens := map[string]string{
		"organiser":       a.token(miso.ID, auth.Organiser),
		"owner":           a.token(miso.ID, auth.Owner),
		"door":            a.token(miso.ID, auth.Door),
		"other org":       a.token(faust.ID, auth.Organiser),
		"other org owner": a.token(faust.ID, auth.Owner),
	}
	routes := []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/orgs/miso/events", ""},
		{http.MethodGet, "/api/v1/orgs/miso/events/konferenz", ""},
		{http.MethodGet, "/api/v1/orgs/miso/events/konferenz/registrations", ""},
		{http.MethodGet, "/api/v1/orgs/miso/events/konferenz/registrations.csv", ""},
		{http.MethodPost, "/api/v1/orgs/miso/events", `{"slug":"neu","title":{"de":"Neu"},"starts_at":"2030-01-01T10:00:00Z","ends_at":"2030-01-01T12:00:00Z"}`},
		{http.MethodPatch, "/api/v1/orgs/miso/events/konferenz", `{"title":{"de":"Geändert"}}`},
		{http.MethodPost, "/api/v1/orgs/miso/events/konferenz/release-no-shows", `{"after_minutes":0}`},
		{http.MethodGet, "/api/v1/orgs/miso/stats", ""},
		{http.MethodPost, "/api/v1/orgs/miso/events/konferenz/cancel", ""},
	}
	refusals := []struct {
		name   string
		header string
		status int
		code   string
	}{
		{"no token", "", 401, "unauthorized"},
		{"bad token", "Bearer tp_NOTATOKEN", 401, "unauthorized"},
		{"not a tp_ token", "Bearer abc", 401, "unauthorized"},
		{"basic auth", "Basic dXNlcjpwYXNz", 401, "unauthorized"},
		{"empty bearer", "Bearer ", 401, "unauthorized"},
		{"door", "Bearer " + tokens["door"], 403, "forbidden"},
		{"other org", "Bearer " + tokens["other org"], 404, "not_found"},
		{"other org owner", "Bearer " + tokens["other org owner"], 404, "not_found"},
	}
	for _, r := range routes {
		for _, x := range refusals {
			t.Run(r.method+" "+r.path+" "+x.name, func(t *testing.T) {
				req := request{Method: r.method, Path: r.path, Body: r.body, ContentType: "application/json"}
				if x.header != "" {
					req.Header = map[string]string{"Authorization": x.header}
				}
				res := a.do(req)
				res.apiErr(t, x.status, x.code)
				if x.status == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
				}
			})
		}
	}
	e, err := a.Events.Get(t.Context(), "konferenz")
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != event.Published || e.Title["de"] != "Konferenz konferenz" || a.count(`SELECT count(*) FROM events`) != 1 {
		t.Fatalf("a refused call changed something: %+v", e)
	}

	// A token of another organisation sees the same as for an unknown one.
	unknown := a.get("/api/v1/orgs/niemand/events", tokens["organiser"])
	other := a.get("/api/v1/orgs/faust/events", tokens["organiser"])
	unknown.apiErr(t, 404, "not_found")
	other.apiErr(t, 404, "not_found")
	if string(unknown.Body) != string(other.Body) {
		t.Errorf("answers differ: %s / %s", unknown.Body, other.Body)
	}

	for _, who := range []string{"organiser", "owner"} {
		for _, r := range routes[:4] {
			res := a.get(r.path, tokens[who])
			res.wantStatus(t, http.StatusOK)
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s: Cache-Control %q", r.path, cc)
			}
		}
	}
}

func TestOrgEventCreatePatchCancel(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	tok := a.token(miso.ID, auth.Organiser)

	res := a.postJSON(http.MethodPost, "/api/v1/orgs/miso/events", tok, `{
		"slug": "migrationskonferenz", "kind": "conference", "default_lang": "de",
		"title": {"de": "Migrationskonferenz", "en": "Migration conference"},
		"description": {"de": "Ein Tag über Teilhabe."},
		"starts_at": "2030-11-15T09:00:00+01:00", "ends_at": "2030-11-15T17:00:00+01:00",
		"timezone": "Europe/Berlin",
		"venue": {"name": "Freizeitheim Vahrenwald", "street": "Vahrenwalder Str. 92", "postcode": "30165", "city": "Hannover", "accessibility_notes": "Stufenlos"},
		"status": "published", "capacity": 160, "waitlist": true, "max_party_size": 2,
		"access": "public", "price_note": "Eintritt frei"}`)
	res.wantStatus(t, http.StatusCreated)
	if loc := res.Header.Get("Location"); loc != a.URL+"/api/v1/orgs/miso/events/migrationskonferenz" {
		t.Errorf("Location %q", loc)
	}
	b := res.object(t)
	if b["slug"] != "migrationskonferenz" || b["status"] != "published" || b["capacity"] != json.Number("160") ||
		b["seats_left"] != json.Number("160") || b["starts_at"] != "2030-11-15T09:00:00+01:00" || b["registration_open"] != true {
		t.Errorf("created %s", res.Body)
	}
	seq, _ := b["sequence"].(json.Number).Int64()

	a.get("/api/v1/events/migrationskonferenz", "").wantStatus(t, http.StatusOK)
	a.get("/api/v1/orgs/miso/events/migrationskonferenz", tok).wantStatus(t, http.StatusOK)

	res = a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/migrationskonferenz", tok,
		`{"capacity": null, "starts_at": "2030-11-15T10:00:00+01:00", "price_note": "Spende erbeten"}`)
	res.wantStatus(t, http.StatusOK)
	b = res.object(t)
	if b["capacity"] != nil || b["seats_left"] != nil || b["starts_at"] != "2030-11-15T10:00:00+01:00" ||
		b["price_note"] != "Spende erbeten" || b["title"].(map[string]any)["en"] != "Migration conference" {
		t.Errorf("patched %s", res.Body)
	}
	if n, _ := b["sequence"].(json.Number).Int64(); n <= seq {
		t.Errorf("sequence %v did not rise from %v", b["sequence"], seq)
	}

	res = a.postJSON(http.MethodPost, "/api/v1/orgs/miso/events/migrationskonferenz/cancel", tok, "")
	res.wantStatus(t, http.StatusOK)
	if b := res.object(t); b["status"] != "cancelled" || b["registration_state"] != "cancelled" || b["registration_open"] != false {
		t.Errorf("cancelled %s", res.Body)
	}
	if b := a.get("/api/v1/events/migrationskonferenz", "").object(t); b["status"] != "cancelled" {
		t.Errorf("public view after cancel: %v", b["status"])
	}
	a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/migrationskonferenz", tok, `{"status":"published"}`).
		apiErr(t, http.StatusConflict, "conflict")
}

func TestOrgEventListIncludesDrafts(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	a.event(miso.ID, "entwurf", func(in *event.Input) { in.Status = ptr(event.Draft) })
	a.event(miso.ID, "konferenz", nil)
	a.event(a.org("faust").ID, "quiz", nil)
	got := slugsOf(t, a.get("/api/v1/orgs/miso/events", a.token(miso.ID, auth.Organiser)))
	if strings.Join(got, ",") != "entwurf,konferenz" && strings.Join(got, ",") != "konferenz,entwurf" {
		t.Errorf("events %v", got)
	}
}

func TestOrgEventRejectsBadInput(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	a.event(miso.ID, "konferenz", nil)
	a.event(miso.ID, "vergeben", nil)
	tok := a.token(miso.ID, auth.Organiser)
	const patch = "/api/v1/orgs/miso/events/konferenz"
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		fields                   []string
	}{
		{"starts_at not RFC 3339", http.MethodPatch, patch, `{"starts_at":"morgen"}`, 422, []string{"starts_at"}},
		{"starts_at a number", http.MethodPatch, patch, `{"starts_at":5}`, 422, []string{"starts_at"}},
		{"registration_opens_at bad", http.MethodPatch, patch, `{"registration_opens_at":"2030-01-01"}`, 422, []string{"registration_opens_at"}},
		{"capacity as text", http.MethodPatch, patch, `{"capacity":"viele"}`, 422, []string{"capacity"}},
		{"capacity negative", http.MethodPatch, patch, `{"capacity":-1}`, 422, []string{"capacity"}},
		{"venue name a number", http.MethodPatch, patch, `{"venue":{"name":3}}`, 422, []string{"venue.name"}},
		{"unknown venue field", http.MethodPatch, patch, `{"venue":{"name":"x","floor":2}}`, 422, []string{"venue.floor"}},
		{"unknown field", http.MethodPatch, patch, `{"colour":"red"}`, 422, []string{"colour"}},
		{"title not an object", http.MethodPatch, patch, `{"title":"Konferenz"}`, 422, []string{"title"}},
		{"several bad fields", http.MethodPatch, patch, `{"capacity":"x","starts_at":"y","waitlist":"ja"}`, 422, []string{"capacity", "starts_at", "waitlist"}},
		{"unknown and bad fields", http.MethodPatch, patch, `{"capacity":"x","colour":"red"}`, 422, []string{"capacity", "colour"}},
		{"ends before start", http.MethodPatch, patch, `{"ends_at":"2000-01-01T00:00:00Z"}`, 422, []string{"ends_at"}},
		{"slug taken", http.MethodPatch, patch, `{"slug":"vergeben"}`, 422, []string{"slug"}},
		{"cancel by status", http.MethodPatch, patch, `{"status":"cancelled"}`, 422, []string{"status"}},
		{"create without title", http.MethodPost, "/api/v1/orgs/miso/events", `{"slug":"neu","starts_at":"2030-01-01T10:00:00Z","ends_at":"2030-01-01T12:00:00Z"}`, 422, []string{"title"}},
		{"create with bad slug", http.MethodPost, "/api/v1/orgs/miso/events", `{"slug":"Neu!","title":{"de":"Neu"},"starts_at":"2030-01-01T10:00:00Z","ends_at":"2030-01-01T12:00:00Z"}`, 422, []string{"slug"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := a.postJSON(tc.method, tc.path, tok, tc.body).apiErr(t, tc.status, "invalid")
			for _, f := range tc.fields {
				if e.Fields[f] == "" {
					t.Errorf("fields %v, want %s", e.Fields, f)
				}
			}
			if len(e.Fields) != len(tc.fields) {
				t.Errorf("fields %v, want %v", e.Fields, tc.fields)
			}
		})
	}
	a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/gibt-es-nicht", tok, `{}`).apiErr(t, 404, "not_found")
	if n := a.count(`SELECT count(*) FROM events WHERE sequence > 0`); n != 0 {
		t.Errorf("%d events changed", n)
	}
}

func TestPatchCapacityBelowConfirmedSeatsIsRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	a.event(miso.ID, "konferenz", func(in *event.Input) { in.Capacity = event.Some(5) })
	a.postJSON(http.MethodPost, "/api/v1/events/konferenz/registrations", "",
		map[string]any{"name": "A", "email": "a@example.org", "party_size": 3, "consent": true}).wantStatus(t, http.StatusCreated)

	tok := a.token(miso.ID, auth.Organiser)
	e := a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/konferenz", tok, `{"capacity": 2}`).apiErr(t, 422, "invalid")
	if e.Fields["capacity"] == "" {
		t.Errorf("fields %v, want capacity", e.Fields)
	}
	if n := a.count(`SELECT capacity FROM events WHERE slug = 'konferenz'`); n != 5 {
		t.Errorf("capacity %d, want 5", n)
	}
	a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/konferenz", tok, `{"capacity": 3}`).wantStatus(t, http.StatusOK)
}

// TestRaisingCapacityPromotesWaitlisted: the waitlist moves in the PATCH.
func TestRaisingCapacityPromotesWaitlisted(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	a.event(miso.ID, "klein", func(in *event.Input) { in.Capacity = event.Some(1) })
	for _, m := range []string{"a@example.org", "b@example.org"} {
		a.postJSON(http.MethodPost, "/api/v1/events/klein/registrations", "", signup(m)).wantStatus(t, http.StatusCreated)
	}
	res := a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/klein", a.token(miso.ID, auth.Organiser), `{"capacity": 2}`)
	res.wantStatus(t, http.StatusOK)
	if b := res.object(t); b["seats_left"] != json.Number("0") || b["waitlist_length"] != json.Number("0") || b["seats_confirmed"] != json.Number("2") {
		t.Errorf("after raising capacity: %s", res.Body)
	}
}
