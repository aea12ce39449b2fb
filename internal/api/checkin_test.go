package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
)

type scanAnswer struct {
	Result   string `json:"result"`
	Attendee *struct {
		Name      string `json:"name"`
		PartySize int    `json:"party_size"`
	} `json:"attendee"`
	CheckedInAt *time.Time `json:"checked_in_at"`
	Time        string     `json:"time"`
	By          string     `json:"by"`
	Day         string     `json:"day"`
	Replayed    bool       `json:"replayed"`
}

// door is an organisation "a" with an event "fest" (a week ahead, so that
// sign-up is open), a door token and a clock set to an hour after the start.
type door struct {
	*app
	Event *event.Event
	Tok   string
	At    time.Time
}

func newDoor(t *testing.T, mod func(*event.Input)) *door {
	a := newApp(t)
	o := a.org("a")
	ev := a.event(o.ID, "fest", func(in *event.Input) {
		in.Capacity = event.Some(100)
		if mod != nil {
			mod(in)
		}
	})
	d := &door{app: a, Event: ev, Tok: a.token(o.ID, auth.Door), At: ev.StartsAt.Add(time.Hour)}
	a.Checkins.SetClock(func() time.Time { return d.At })
	return d
}

func (d *door) scan(body map[string]any) scanAnswer {
	d.t.Helper()
	if _, ok := body["event"]; !ok {
		body["event"] = d.Event.Slug
	}
	r := d.postJSON(http.MethodPost, "/api/v1/checkin", d.Tok, body)
	if r.Status != http.StatusOK {
		d.t.Fatalf("scan %v: %d %s", body, r.Status, r.Body)
	}
	var s scanAnswer
	if err := json.Unmarshal(r.Body, &s); err != nil {
		d.t.Fatal(err)
	}
	return s
}

// Fifty scans of one ticket at once, through two app instances with their
// own connection pools: the unique index admits exactly one.
func TestCheckinConcurrentScansAdmitExactlyOnce(t *testing.T) {
	t.Parallel()
	d := newDoor(t, nil)
	second := d.Second(t)
	second.Checkins.SetClock(d.Checkins.Now)
	code := d.Signed(t, "fest", "Ayşe Yılmaz", 1).Tickets[0].Code

	const n = 50
	results := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		base := d.URL
		if i%2 == 1 {
			base = second.URL
		}
		wg.Go(func() {
			<-start
			b, _ := json.Marshal(map[string]string{"code": code, "event": "fest"})
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/checkin", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+d.Tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			var s scanAnswer
			if err := json.NewDecoder(res.Body).Decode(&s); err != nil || res.StatusCode != 200 {
				errs[i] = fmt.Errorf("status %d: %v", res.StatusCode, err)
				return
			}
			results[i] = s.Result
		})
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("scan %d: %v", i, errs[i])
		}
		count[r]++
	}
	if count["ok"] != 1 || count["already_checked_in"] != n-1 {
		t.Fatalf("verdicts %v, want 1 ok and %d already_checked_in", count, n-1)
	}
	if got := d.count(`SELECT count(*) FROM checkins`); got != 1 {
		t.Errorf("%d check-in rows, want 1", got)
	}
	if got := d.count(`SELECT count(*) FROM checkin_scans`); got != n {
		t.Errorf("%d scans logged, want %d", got, n)
	}
	if got := d.count(`SELECT count(*) FROM tickets WHERE checked_in_at IS NOT NULL`); got != 1 {
		t.Errorf("tickets.checked_in_at set on %d tickets, want 1", got)
	}
}

// Every verdict of DESIGN.md, each logged.
func TestCheckinGivesEveryVerdict(t *testing.T) {
	t.Parallel()
	d := newDoor(t, nil)
	d.event(d.Event.OrgID, "other", nil)
	orgB := d.org("b")
	d.event(orgB.ID, "b-fest", nil)
	reg := d.Signed(t, "fest", "Jonas Weber", 2)
	gone := d.Signed(t, "fest", "Mara Klein", 1)
	elsewhere := d.Signed(t, "other", "Ole Hansen", 1)
	foreign := d.Signed(t, "b-fest", "Lena Fuchs", 1)
	if r := d.postJSON(http.MethodPost, "/api/v1/registrations/"+gone.ManageToken+"/cancel", "", map[string]any{}); r.Status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}

	s := d.scan(map[string]any{"code": reg.Tickets[0].Code})
	if s.Result != "ok" || s.Attendee == nil || s.Attendee.Name != "Jonas Weber" || s.Attendee.PartySize != 2 || s.CheckedInAt == nil {
		t.Fatalf("first scan: %+v", s)
	}
	s = d.scan(map[string]any{"code": d.URL + "/t/" + reg.Tickets[0].Code})
	if s.Result != "already_checked_in" || s.Time == "" || s.By != "test" {
		t.Errorf("second scan (full URL): %+v, want already_checked_in at a time by the token", s)
	}
	s = d.scan(map[string]any{"code": reg.Tickets[1].Code})
	if s.Result != "ok" {
		t.Errorf("second seat of the party: %s, want ok (one check-in per ticket)", s.Result)
	}
	for name, c := range map[string]struct {
		body map[string]any
		want string
	}{
		"unknown code":                {map[string]any{"code": "NOPE" + reg.Tickets[0].Code[4:]}, "unknown"},
		"another organisation ticket": {map[string]any{"code": foreign.Tickets[0].Code}, "unknown"},
		"cancelled registration":      {map[string]any{"code": gone.Tickets[0].Code}, "cancelled"},
		"ticket of another event":     {map[string]any{"code": elsewhere.Tickets[0].Code}, "wrong_event"},
		"another day than today":      {map[string]any{"code": elsewhere.Tickets[0].Code, "event": "other", "day": "2001-01-01"}, "not_today"},
	} {
		if s := d.scan(c.body); s.Result != c.want {
			t.Errorf("%s: %s, want %s", name, s.Result, c.want)
		}
	}
	if s := d.scan(map[string]any{"code": "x"}); s.Attendee != nil {
		t.Errorf("unknown ticket names an attendee: %+v", s)
	}
	if s := d.scan(map[string]any{"code": foreign.Tickets[0].Code}); s.Attendee != nil {
		t.Errorf("another organisation's ticket names its attendee: %+v", s)
	}

	// The day before the event nobody is admitted.
	d.At = d.Event.StartsAt.Add(-24 * time.Hour)
	fresh := d.Signed(t, "fest", "Nora Berg", 1)
	if s := d.scan(map[string]any{"code": fresh.Tickets[0].Code}); s.Result != "not_today" {
		t.Errorf("a day early: %s, want not_today", s.Result)
	}
	if got := d.count(`SELECT count(*) FROM checkin_scans`); got != 11 {
		t.Errorf("%d scans logged, want 11", got)
	}
	if got := d.count(`SELECT count(*) FROM checkins`); got != 2 {
		t.Errorf("%d check-ins, want 2", got)
	}
}

// A festival over three days admits a ticket once each day.
func TestCheckinOncePerEventDay(t *testing.T) {
	t.Parallel()
	d := newDoor(t, func(in *event.Input) {
		start := time.Now().AddDate(0, 0, 7).Truncate(24 * time.Hour).Add(10 * time.Hour)
		end := start.AddDate(0, 0, 2).Add(12 * time.Hour)
		in.StartsAt, in.EndsAt = &start, &end
	})
	code := d.Signed(t, "fest", "Emil Roth", 1).Tickets[0].Code
	for day := range 3 {
		d.At = d.Event.StartsAt.AddDate(0, 0, day).Add(2 * time.Hour)
		if s := d.scan(map[string]any{"code": code}); s.Result != "ok" {
			t.Fatalf("day %d: %s, want ok", day+1, s.Result)
		}
		if s := d.scan(map[string]any{"code": code}); s.Result != "already_checked_in" {
			t.Fatalf("day %d again: %s, want already_checked_in", day+1, s.Result)
		}
	}
	d.At = d.Event.StartsAt.AddDate(0, 0, 3).Add(2 * time.Hour)
	if s := d.scan(map[string]any{"code": code}); s.Result != "not_today" {
		t.Errorf("the day after: %s, want not_today", s.Result)
	}
	if got := d.count(`SELECT count(DISTINCT day) FROM checkins`); got != 3 {
		t.Errorf("%d days checked in, want 3", got)
	}
	var first time.Time
	if err := d.DB.Get(&first, `SELECT checked_in_at FROM tickets WHERE code_hash = sha256(convert_to($1, 'UTF8'))`, code); err != nil || !first.Equal(d.Event.StartsAt.Add(2*time.Hour)) {
		t.Errorf("tickets.checked_in_at = %v (%v), want the first day's check-in", first, err)
	}
}

// Undo withdraws a check-in; the ticket can then be checked in again.
func TestCheckinUndoThenCheckInAgain(t *testing.T) {
	t.Parallel()
	d := newDoor(t, nil)
	code := d.Signed(t, "fest", "Ida Sommer", 1).Tickets[0].Code
	if s := d.scan(map[string]any{"code": code}); s.Result != "ok" {
		t.Fatalf("scan: %s", s.Result)
	}
	r := d.postJSON(http.MethodPost, "/api/v1/checkin/undo", d.Tok, map[string]any{"code": code, "event": "fest"})
	if r.Status != http.StatusOK || r.object(t)["result"] != "undone" {
		t.Fatalf("undo: %d %s", r.Status, r.Body)
	}
	if got := d.count(`SELECT count(*) FROM tickets WHERE checked_in_at IS NOT NULL`); got != 0 {
		t.Errorf("after undo %d tickets still show a check-in", got)
	}
	r = d.postJSON(http.MethodPost, "/api/v1/checkin/undo", d.Tok, map[string]any{"code": code, "event": "fest"})
	r.apiErr(t, http.StatusNotFound, "not_found")
	if s := d.scan(map[string]any{"code": code}); s.Result != "ok" {
		t.Fatalf("scan after undo: %s, want ok", s.Result)
	}
	var counts struct {
		CheckedIn int `json:"checked_in"`
		Confirmed int `json:"confirmed"`
	}
	if err := json.Unmarshal(d.get("/api/v1/checkin/counts?event=fest", d.Tok).Body, &counts); err != nil || counts.CheckedIn != 1 || counts.Confirmed != 1 {
		t.Errorf("counts %+v (%v), want 1 of 1", counts, err)
	}
	if got := d.count(`SELECT count(*) FROM checkin_scans WHERE verdict = 'undone'`); got != 1 {
		t.Errorf("%d undos logged, want 1", got)
	}
	var found struct {
		Tickets []struct {
			Name string `json:"name"`
			Code string `json:"code"`
		} `json:"tickets"`
	}
	if err := json.Unmarshal(d.get("/api/v1/checkin/search?event=fest&q=somm", d.Tok).Body, &found); err != nil || len(found.Tickets) != 1 || found.Tickets[0].Code != code {
		t.Errorf("search by name: %+v (%v)", found, err)
	}
}

// An offline scan synced twice (same scan id) has one effect and gets its
// first answer again.
func TestCheckinScanIDIsIdempotent(t *testing.T) {
	t.Parallel()
	d := newDoor(t, nil)
	code := d.Signed(t, "fest", "Paul Lang", 1).Tickets[0].Code
	body := func() map[string]any {
		return map[string]any{"code": code, "scan_id": "0b7d1c9e-3d1a-4a59-9a51-5f0e1c2d3e4f", "scanned_at": d.At.Add(-time.Minute).Format(time.RFC3339)}
	}
	if s := d.scan(body()); s.Result != "ok" || s.Replayed {
		t.Fatalf("first sync: %+v", s)
	}
	if s := d.scan(body()); s.Result != "ok" || !s.Replayed {
		t.Fatalf("second sync of the same scan: %+v, want the first answer replayed", s)
	}
	if got := d.count(`SELECT count(*) FROM checkin_scans`); got != 1 {
		t.Errorf("%d scans logged, want 1", got)
	}
	if got := d.count(`SELECT count(*) FROM checkins`); got != 1 {
		t.Errorf("%d check-ins, want 1", got)
	}
	if s := d.scan(map[string]any{"code": code, "scan_id": "another"}); s.Result != "already_checked_in" {
		t.Errorf("a new scan of the ticket: %s, want already_checked_in", s.Result)
	}
}

// The door API wants a token of the event's organisation with at least the
// door role.
func TestCheckinAPIIsScopedToTheTokensOrganisation(t *testing.T) {
	t.Parallel()
	d := newDoor(t, nil)
	code := d.Signed(t, "fest", "Tim Brandt", 1).Tickets[0].Code
	orgB := d.org("b")
	body := map[string]any{"code": code, "event": "fest"}
	d.postJSON(http.MethodPost, "/api/v1/checkin", "", body).apiErr(t, http.StatusUnauthorized, "unauthorized")
	d.postJSON(http.MethodPost, "/api/v1/checkin", "tp_"+string(bytes.Repeat([]byte("A"), 52)), body).apiErr(t, http.StatusUnauthorized, "unauthorized")
	for _, role := range []string{auth.Door, auth.Owner} {
		tokB := d.token(orgB.ID, role)
		d.postJSON(http.MethodPost, "/api/v1/checkin", tokB, body).apiErr(t, http.StatusNotFound, "not_found")
		d.postJSON(http.MethodPost, "/api/v1/checkin/undo", tokB, body).apiErr(t, http.StatusNotFound, "not_found")
		d.get("/api/v1/checkin/counts?event=fest", tokB).apiErr(t, http.StatusNotFound, "not_found")
		d.get("/api/v1/checkin/search?event=fest&q=tim", tokB).apiErr(t, http.StatusNotFound, "not_found")
	}
	if got := d.count(`SELECT count(*) FROM checkin_scans`); got != 0 {
		t.Errorf("refused calls logged %d scans", got)
	}
	org := d.token(d.Event.OrgID, auth.Organiser)
	if r := d.postJSON(http.MethodPost, "/api/v1/checkin", org, body); r.Status != http.StatusOK {
		t.Errorf("organiser token: %d %s", r.Status, r.Body)
	}
}

// The same offline scan synced from several tabs at once still has one
// effect and one log row.
func TestCheckinConcurrentReplaysOfOneScanHaveOneEffect(t *testing.T) {
	t.Parallel()
	d := newDoor(t, nil)
	code := d.Signed(t, "fest", "Lea Vogt", 1).Tickets[0].Code
	b, _ := json.Marshal(map[string]string{"code": code, "event": "fest", "scan_id": "tab-sync-1"})
	var wg sync.WaitGroup
	results := make([]string, 10)
	for i := range results {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, d.URL+"/api/v1/checkin", bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+d.Tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer res.Body.Close()
			var s scanAnswer
			if json.NewDecoder(res.Body).Decode(&s) == nil {
				results[i] = s.Result
			}
		})
	}
	wg.Wait()
	for i, r := range results {
		if r != "ok" {
			t.Errorf("sync %d: %q, want the one answer ok", i, r)
		}
	}
	if got := d.count(`SELECT count(*) FROM checkins`); got != 1 {
		t.Errorf("%d check-ins, want 1", got)
	}
	if got := d.count(`SELECT count(*) FROM checkin_scans`); got != 1 {
		t.Errorf("%d scans logged, want 1", got)
	}
}
