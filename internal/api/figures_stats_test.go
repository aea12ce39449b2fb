package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
)

// The figures of a year with sign-ups (languages, birth dates, member
// numbers), a waitlist, check-ins, released no-shows and walk-ins: each
// number as documented, cells under 5 as "<5", and the whole answer — the
// organisation's and the network's — byte for byte the same after
// retention has erased every name, address, birth date and member number.
func TestStatsAreTheSameBeforeAndAfterRetention(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso, faust := a.org("miso"), a.org("faust")
	setNow := a.SettableClock()
	loccum := a.event(miso.ID, "loccum", func(in *event.Input) {
		in.Capacity, in.MinAge, in.MaxPartySize = event.Some(12), event.Some(17), ptr(2)
	})
	fest := a.event(miso.ID, "fest", func(in *event.Input) {
		s := loccum.StartsAt.AddDate(0, 0, 30)
		e := s.Add(2 * time.Hour)
		in.StartsAt, in.EndsAt = &s, &e
	})
	a.event(faust.ID, "quiz", nil)
	start := loccum.StartsAt.In(loccum.Location())
	born := func(years int) string { return start.AddDate(-years, 0, -10).Format(time.DateOnly) }
	var regs []*registration.Registration
	sign := func(slug, name, lang, birth, number string) *registration.Registration {
		t.Helper()
		res, err := a.Registrations.SignUp(context.Background(), slug, registration.SignupInput{
			Name: name, Email: name + "@example.org", PartySize: 1, Lang: lang, BirthDate: birth, MemberNumber: number, Consent: true})
		if err != nil {
			t.Fatalf("sign up %s: %v", name, err)
		}
		regs = append(regs, res.Registration)
		return res.Registration
	}
	for i := range 6 {
		sign("loccum", fmt.Sprintf("jung%d", i), "de", born(20), fmt.Sprintf("M-%d", i))
	}
	sign("loccum", "schueler1", "ar", born(17), "")
	sign("loccum", "schueler2", "ar", born(17), "")
	sign("loccum", "aelter", "fa", born(40), "")
	for i := range 5 {
		sign("loccum", fmt.Sprintf("mitte%d", i), "de", born(25), "")
	}
	// Full: the last two wait.
	if r := regs[len(regs)-1]; r.Status != registration.Waitlisted || regs[len(regs)-2].Status != registration.Waitlisted {
		t.Fatalf("the last two sign-ups are %s, %s", regs[len(regs)-2].Status, r.Status)
	}
	for i := range 3 {
		sign("fest", fmt.Sprintf("fest%d", i), "ru", "", "")
	}

	// Seven check in, the other five are released, the two waiting move up.
	door := a.token(miso.ID, auth.Door)
	a.Checkins.SetClock(func() time.Time { return loccum.StartsAt.Add(10 * time.Minute) })
	for _, r := range regs[:7] {
		if res := a.postJSON(http.MethodPost, "/api/v1/checkin", door, map[string]any{"event": "loccum", "code": r.Tickets[0].Code}); res.Status != http.StatusOK || !json.Valid(res.Body) {
			t.Fatalf("check-in: %d %s", res.Status, res.Body)
		}
	}
	organiser := a.token(miso.ID, auth.Organiser)
	setNow(loccum.StartsAt.Add(31 * time.Minute))
	a.postJSON(http.MethodPost, "/api/v1/orgs/miso/events/loccum/release-no-shows", organiser, `{"after_minutes":30}`).wantStatus(t, http.StatusOK)
	// Three places left: two walk-in parties take them.
	setNow(loccum.StartsAt.Add(40 * time.Minute))
	for _, size := range []int{2, 1} {
		a.postJSON(http.MethodPost, "/api/v1/checkin/walkin", door, map[string]any{"event": "loccum", "name": "Gast", "party_size": size}).wantStatus(t, http.StatusCreated)
	}

	retention := 90 * 24 * time.Hour
	setNow(fest.EndsAt.Add(retention + time.Minute))
	period := fmt.Sprintf("?from=%s&to=%s", start.AddDate(0, 0, -1).Format(time.DateOnly), start.AddDate(0, 0, 40).Format(time.DateOnly))
	admin, err := a.Auth.AddAdminToken(t.Context(), faust.ID, "network")
	if err != nil {
		t.Fatal(err)
	}
	read := func() (org, network string) {
		t.Helper()
		r := a.get("/api/v1/orgs/miso/stats"+period, organiser)
		r.wantStatus(t, http.StatusOK)
		n := a.get("/api/v1/stats"+period, admin)
		n.wantStatus(t, http.StatusOK)
		return string(r.Body), string(n.Body)
	}
	orgBefore, netBefore := read()

	var st struct {
		Events []map[string]any `json:"events"`
		Total  map[string]any   `json:"total"`
	}
	if err := json.Unmarshal([]byte(orgBefore), &st); err != nil || len(st.Events) != 2 {
		t.Fatalf("%v %s", err, orgBefore)
	}
	e1, e2 := st.Events[0], st.Events[1]
	want := map[string]any{
		"slug": "loccum", "registrations": 16.0, "persons_confirmed": 17.0, "persons_checked_in": 10.0,
		"no_show_rate": 0.5, "walk_ins": 3.0, "waitlist_peak": 2.0,
	}
	for k, v := range want {
		if e1[k] != v {
			t.Errorf("loccum %s = %v, want %v", k, e1[k], v)
		}
	}
	wantBreakdowns := map[string]map[string]any{
		"by_lang":     {"de": 13.0, "ar": "<5", "fa": "<5"},
		"by_age_band": {"18_21": 6.0, "22_27": 5.0, "under_18": "<5", "28_plus": "<5", "unknown": "<5"},
		"members":     {"members": 6.0, "others": 10.0},
	}
	for k, w := range wantBreakdowns {
		got, _ := e1[k].(map[string]any)
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("loccum %s = %v, want %v", k, got, w)
		}
	}
	if _, ok := e2["by_age_band"]; ok {
		t.Error("fest asked no birth dates but has an age breakdown")
	}
	if fmt.Sprint(e2["by_lang"]) != fmt.Sprint(map[string]any{"ru": "<5"}) || e2["registrations"] != 3.0 {
		t.Errorf("fest %v", e2)
	}
	if s, ok := e2["sessions"].([]any); !ok || len(s) != 0 {
		t.Errorf("sessions %v, want []", e2["sessions"])
	}
	if st.Total["registrations"] != 19.0 || fmt.Sprint(st.Total["by_lang"]) != fmt.Sprint(map[string]any{"de": 13.0, "ar": "<5", "fa": "<5", "ru": "<5"}) {
		t.Errorf("total %v", st.Total)
	}

	n, err := a.Registrations.EraseExpired(context.Background(), retention, 1000)
	if err != nil || n.Registrations != 19 {
		t.Fatalf("erase: %+v %v, want 19 registrations", n, err)
	}
	if left := a.count(`SELECT count(*) FROM registrations WHERE name <> '' OR email <> '' OR birth_date IS NOT NULL OR member_number <> ''`); left != 0 {
		t.Fatalf("%d registrations keep personal data", left)
	}
	orgAfter, netAfter := read()
	if orgAfter != orgBefore {
		t.Errorf("organisation's figures changed by retention:\nbefore %s\nafter  %s", orgBefore, orgAfter)
	}
	if netAfter != netBefore {
		t.Errorf("network's figures changed by retention:\nbefore %s\nafter  %s", netBefore, netAfter)
	}
}

// A suppressed cell is the plain string "<5" on the wire, not "\u003c5".
func TestStatsWriteSuppressedCellsPlainly(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	ev := a.event(o.ID, "fest", nil)
	a.Signed(t, "fest", "Ayşe Yılmaz", 1)
	y := ev.StartsAt.Year()
	r := a.get(fmt.Sprintf("/api/v1/orgs/miso/stats?from=%d-01-01&to=%d-12-31", y, y), a.token(o.ID, auth.Organiser))
	r.wantStatus(t, http.StatusOK)
	if !strings.Contains(string(r.Body), `"by_lang":{"de":"<5"}`) || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s %s", r.Header.Get("Content-Type"), r.Body)
	}
}

// The figures per session: the persons holding a place in each (those
// released as no-shows included, those who left it not), checked in at its
// door, and still waiting; cells under 5 as "<5"; in the CSV rows of the
// same numbers; and the whole answer byte for byte the same after
// retention has erased the personal data.
func TestSessionFiguresAreTheSameBeforeAndAfterRetention(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	setNow := a.SettableClock()
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	at := func(h int) string { return start.Add(time.Duration(h) * time.Hour).UTC().Format(time.RFC3339) }
	tage := a.event(miso.ID, "tage", func(in *event.Input) {
		end := start.Add(3 * time.Hour)
		in.StartsAt, in.EndsAt, in.Capacity, in.MaxPartySize = &start, &end, event.Some(30), ptr(2)
		in.Sessions = sessionsInput(t, []map[string]any{
			{"key": "x", "title": map[string]string{"de": "Werkstatt X"}, "starts_at": at(0), "ends_at": at(1), "room": "Raum 1", "capacity": 6},
			{"key": "y", "title": map[string]string{"de": "Forum Y"}, "starts_at": at(1), "ends_at": at(2), "capacity": nil},
		})
	})
	var regs []*registration.Registration
	sign := func(party int, sessions ...string) {
		t.Helper()
		res, err := a.Registrations.SignUp(context.Background(), "tage", registration.SignupInput{
			Name: fmt.Sprintf("p%d", len(regs)), Email: fmt.Sprintf("p%d@example.org", len(regs)), PartySize: party, Lang: "de",
			Sessions: sessions, Consent: true})
		if err != nil {
			t.Fatalf("sign up %d: %v", len(regs), err)
		}
		regs = append(regs, res.Registration)
	}
	for range 5 {
		sign(1, "x", "y") // 0–4: places in both
	}
	sign(2, "x") // 5: one place left in x, too few for two: waits
	sign(1, "x") // 6: the last place of x; will not come
	for range 5 {
		sign(1, "x") // 7–11: wait for x
	}
	sign(2, "y") // 12
	// 2 leaves y before the event: no longer counted there.
	if _, err := a.Registrations.LeaveSession(context.Background(), regs[2].ManageToken, "y"); err != nil {
		t.Fatal(err)
	}

	door := a.token(miso.ID, auth.Door)
	a.Checkins.SetClock(func() time.Time { return start.Add(10 * time.Minute) })
	scan := func(r *registration.Registration, session string) {
		t.Helper()
		body := map[string]any{"event": "tage", "code": r.Tickets[0].Code}
		if session != "" {
			body["session"] = session
		}
		var got struct {
			Result string `json:"result"`
		}
		res := a.postJSON(http.MethodPost, "/api/v1/checkin", door, body)
		if err := json.Unmarshal(res.Body, &got); res.Status != http.StatusOK || err != nil || got.Result != "ok" {
			t.Fatalf("check-in %s: %d %s", session, res.Status, res.Body)
		}
	}
	for i, r := range regs {
		if i != 6 {
			scan(r, "")
		}
	}
	for _, r := range regs[:5] {
		scan(r, "x")
	}
	scan(regs[0], "y")
	scan(regs[1], "y")
	// 6 is released: its place in x goes to the first waiting party that
	// fits (7, as 5 is two), and it still counts as confirmed in x.
	organiser := a.token(miso.ID, auth.Organiser)
	setNow(start.Add(31 * time.Minute))
	a.postJSON(http.MethodPost, "/api/v1/orgs/miso/events/tage/release-no-shows", organiser, `{"after_minutes":30}`).wantStatus(t, http.StatusOK)

	retention := 90 * 24 * time.Hour
	setNow(tage.EndsAt.Add(retention + time.Minute))
	period := "?from=" + start.AddDate(0, 0, -1).Format(time.DateOnly) + "&to=" + start.AddDate(0, 0, 1).Format(time.DateOnly)
	b := a.LoggedIn(t, a.Staff(t, miso, "organiser@miso.example", auth.Organiser, false))
	read := func() (string, string) {
		t.Helper()
		r := a.get("/api/v1/orgs/miso/stats"+period, organiser)
		r.wantStatus(t, http.StatusOK)
		year := start.In(tage.Location()).Year()
		code, csv := b.Get(fmt.Sprintf("/admin/orgs/miso/stats.csv?year=%d", year))
		if code != http.StatusOK {
			t.Fatalf("stats.csv: %d", code)
		}
		return string(r.Body), csv
	}
	before, csvBefore := read()
	var st struct {
		Events []struct {
			Sessions []map[string]any `json:"sessions"`
		} `json:"events"`
		Total struct {
			Sessions []any `json:"sessions"`
		} `json:"total"`
	}
	if err := json.Unmarshal([]byte(before), &st); err != nil || len(st.Events) != 1 {
		t.Fatalf("%v %s", err, before)
	}
	want := []map[string]any{
		{"key": "x", "title": "Werkstatt X", "persons_confirmed": 7.0, "persons_checked_in": 5.0, "waitlisted": 6.0},
		{"key": "y", "title": "Forum Y", "persons_confirmed": 6.0, "persons_checked_in": "<5", "waitlisted": 0.0},
	}
	got := st.Events[0].Sessions
	if len(got) != len(want) {
		t.Fatalf("sessions %v", got)
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("session %s: %s = %v, want %v", w["key"], k, got[i][k], v)
			}
		}
	}
	if st.Total.Sessions == nil || len(st.Total.Sessions) != 0 {
		t.Errorf("total sessions %v, want []", st.Total.Sessions)
	}
	for _, line := range []string{
		"session_persons_confirmed,x,7", "session_persons_checked_in,x,5", "session_waitlisted,x,6",
		"session_persons_confirmed,y,6", "session_persons_checked_in,y,<5", "session_waitlisted,y,0",
	} {
		if !strings.Contains(csvBefore, line) {
			t.Errorf("the CSV lacks %q", line)
		}
	}

	n, err := a.Registrations.EraseExpired(context.Background(), retention, 1000)
	if err != nil || n.Registrations != len(regs) {
		t.Fatalf("erase: %+v %v, want %d registrations", n, err, len(regs))
	}
	after, csvAfter := read()
	if after != before {
		t.Errorf("session figures changed by retention:\nbefore %s\nafter  %s", before, after)
	}
	if csvAfter != csvBefore {
		t.Errorf("the figures' CSV changed by retention:\nbefore %s\nafter  %s", csvBefore, csvAfter)
	}
}
