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
