package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// Issue 19 in the organisers' area: the editor switches selection by
// approval on; the public page says places are given by selection; the
// attendee list filters the applicants, shows their answers next to them,
// and approves (forms with CSRF) or declines with a reason; door staff
// may not decide.
func TestOrganisersSelectApplicantsOnTheAttendeeList(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	f := admEventForm("loccum")
	f.Set("action", "publish")
	f.Set("capacity", "1")
	f.Set("approval", "yes")
	f.Del("waitlist")
	if resp, body := c.post("/admin/orgs/a/new-event", f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%.600s", resp.StatusCode, body)
	}
	e, err := a.Events.Get(t.Context(), "loccum")
	if err != nil || !e.Approval {
		t.Fatalf("the editor did not store approval: %v", err)
	}
	if _, page := c.Get("/admin/orgs/a/events/loccum"); !strings.Contains(page, `name="approval" type="checkbox" value="yes" checked`) {
		t.Fatal("the editor does not show approval as set")
	}
	if _, page := a.Browser(t).Get("/events/loccum"); !strings.Contains(page, "per Auswahl vergeben") {
		t.Fatal("the event page does not say that places are given by selection")
	}
	q := event.Questions{{Key: "motivation", Type: "text", Label: event.Texts{"de": "Warum möchtest du mitkommen?"}}}
	if _, err := a.Events.Update(t.Context(), e.OrgID, "loccum", event.Input{Questions: &q}); err != nil {
		t.Fatal(err)
	}
	apply := func(name string) *registration.Registration {
		res, err := a.Registrations.SignUp(context.Background(), "loccum", registration.SignupInput{Name: name,
			Email: strings.ToLower(name) + "@example.org", PartySize: 1, Consent: true,
			Answers: map[string]any{"motivation": name + " möchte Leute kennenlernen"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Registration.Status != registration.Applied {
			t.Fatalf("%s: %s", name, res.Registration.Status)
		}
		return res.Registration
	}
	ann, bob, cem := apply("Ann"), apply("Bob"), apply("Cem")

	base := "/admin/orgs/a/events/loccum/registrations"
	_, page := c.Get(base + "?status=applied")
	for _, want := range []string{"Ann möchte Leute kennenlernen", `id="count-applied">3<`,
		`action="` + base + "/" + strconv.FormatInt(ann.ID, 10) + `/approve"`, `name="reason_de"`} {
		if !strings.Contains(page, want) {
			t.Errorf("applicants' list lacks %q", want)
		}
	}
	resp, _ := c.post(base+"/"+strconv.FormatInt(ann.ID, 10)+"/approve", url.Values{"status": {"applied"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != base+"?status=applied" {
		t.Fatalf("approve: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if r, _ := a.Registrations.ByToken(t.Context(), ann.ManageToken); r.Status != registration.Confirmed || len(r.Tickets) != 1 {
		t.Fatalf("Ann: %s", r.Status)
	}
	// Full, no waitlist: said on the list, Bob stays an applicant.
	resp, page = c.post(base+"/"+strconv.FormatInt(bob.ID, 10)+"/approve", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, `id="problem"`) {
		t.Fatalf("approve on a full event: %d", resp.StatusCode)
	}
	resp, _ = c.post(base+"/"+strconv.FormatInt(cem.ID, 10)+"/decline", url.Values{"reason": {"Diesmal leider nicht."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("decline: %d", resp.StatusCode)
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'declined' AND recipient = 'cem@example.org' AND payload->'reason'->>'' = 'Diesmal leider nicht.'`); n != 1 {
		t.Fatalf("Cem's decline mail with the reason: %d", n)
	}
	// Without the form's token nothing is decided.
	resp, _ = c.PostRaw(base+"/"+strconv.FormatInt(bob.ID, 10)+"/decline", url.Values{})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("decline without CSRF token: %d", resp.StatusCode)
	}
	if r, _ := a.Registrations.ByToken(t.Context(), bob.ManageToken); r.Status != registration.Applied {
		t.Fatalf("Bob: %s", r.Status)
	}
	if n := a.Count(t, `SELECT count(*) FROM audit_log WHERE action IN ('registration.approve', 'registration.decline')`); n != 2 {
		t.Fatalf("decisions audited: %d", n)
	}
	// The applicant's own page says what an application is.
	if _, page := a.Browser(t).Get("/r/" + bob.ManageToken); !strings.Contains(page, `id="applied"`) {
		t.Fatal("the applicant's page does not explain the application")
	}
}

var cantComeRE = regexp.MustCompile(`(http://[^\s"]+/r/[A-Za-z0-9_-]+)/cant-come`)

// The reminder the day before carries "I can't come"; the page it opens
// changes nothing (mail scanners open links); its button cancels, and the
// first on the waitlist gets the place in the same transaction.
func TestReminderCantComeFreesThePlaceForTheWaitlist(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t) // event fest-a: 2 places, Ayşe (2) confirmed, one party waitlisted
	now := time.Now()
	w.Registrations.SetClock(func() time.Time { return now })
	now = w.A.Event.StartsAt.Add(-12 * time.Hour)
	if n, err := w.Registrations.Remind(t.Context(), 100); err != nil || n == 0 {
		t.Fatalf("reminders: %d, %v", n, err)
	}
	var id int64
	if err := w.DB.Get(&id, `SELECT id FROM mail_outbox WHERE kind = 'reminder' AND registration_id = $1`, w.A.Confirmed.ID); err != nil {
		t.Fatal(err)
	}
	m, err := w.Outbox.Render(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	link := cantComeRE.FindStringSubmatch(m.HTML)
	if link == nil || !strings.Contains(m.Text, link[0]) || !strings.Contains(m.HTML, "Ich kann nicht kommen") {
		t.Fatalf("the reminder has no \"I can't come\" link:\n%s", m.Text)
	}
	if link[1] != w.URL+"/r/"+w.A.Confirmed.ManageToken {
		t.Fatalf("the link is not the manage link's: %s", link[0])
	}
	path := strings.TrimPrefix(link[0], w.URL)
	b := w.Browser(t)
	code, page := b.Get(path)
	if code != http.StatusOK || !strings.Contains(page, `id="cant-come"`) {
		t.Fatalf("GET %d", code)
	}
	if r, _ := w.Registrations.ByToken(t.Context(), w.A.Confirmed.ManageToken); r.Status != registration.Confirmed {
		t.Fatalf("opening the page changed the registration: %s", r.Status)
	}
	resp, _ := b.Post(path, path, url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST %d", resp.StatusCode)
	}
	if _, page := b.Get(resp.Header.Get("Location")); !strings.Contains(page, `id="cant-come-done"`) {
		t.Fatal("no confirmation after the POST")
	}
	if r, _ := w.Registrations.ByToken(t.Context(), w.A.Confirmed.ManageToken); r.Status != registration.Cancelled {
		t.Fatalf("after the POST: %s", r.Status)
	}
	if r, _ := w.Registrations.ByToken(t.Context(), w.A.Waitlisted.ManageToken); r.Status != registration.Confirmed || len(r.Tickets) == 0 {
		t.Fatalf("the waitlisted party did not move up: %s", r.Status)
	}
	// A made-up token opens nothing.
	if code, _ := b.Get("/r/" + strings.Repeat("A", 26) + "/cant-come"); code != http.StatusNotFound {
		t.Fatalf("unknown token: %d", code)
	}
}

// A personal feed shows an application as tentative and a declined one as
// cancelled, never as a place.
func TestPersonalFeedShowsApplicationsAsNotYetAPlace(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	for _, slug := range []string{"auswahl", "absage"} {
		a.Event(t, o, slug, func(in *event.Input) { in.Approval = ptrTo(true) })
	}
	applied := signUp(t, a, "auswahl", "ayse@example.org")
	declined := signUp(t, a, "absage", "ayse@example.org")
	if _, err := a.Registrations.Decline(t.Context(), declined.EventID, declined.ID, nil); err != nil {
		t.Fatal(err)
	}
	b := a.Browser(t)
	if resp := calendarButton(t, b, applied.ManageToken, "create"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if resp := calendarButton(t, b, declined.ManageToken, "join"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", resp.StatusCode)
	}
	token, _ := personalLink(t, b, applied.ManageToken)
	_, cal := feed(t, a, "/feeds/"+token+".ics")
	evs := bySlug(cal)
	for slug, want := range map[string][2]string{
		"auswahl": {"TENTATIVE", "Werkstatt auswahl (beworben)"},
		"absage":  {"CANCELLED", "Nicht angenommen: Werkstatt absage"},
	} {
		v := evs[slug]
		if v == nil {
			t.Errorf("%s is not in the personal feed", slug)
			continue
		}
		if got := [2]string{prop(v, ics.ComponentPropertyStatus), prop(v, ics.ComponentPropertySummary)}; got != want {
			t.Errorf("%s: %q, want %q", slug, got, want)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// Issue 19: the decline form asks the reason in the event's languages side
// by side (and in the applicant's own when the event has no text in it);
// it is sent as the reason per language, and the mail in the applicant's
// language carries theirs.
func TestDeclineFormGivesAReasonPerLanguage(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	o, err := a.Orgs.BySlug(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	e := a.Event(t, o, "loccum", func(in *event.Input) {
		yes := true
		in.Approval = &yes
		in.Title = event.Texts{"de": "Wochenende in Loccum", "en": "Weekend in Loccum"}
	})
	apply := func(name, lang string) *registration.Registration {
		res, err := a.Registrations.SignUp(context.Background(), "loccum", registration.SignupInput{Name: name,
			Email: strings.ToLower(name) + "@example.org", PartySize: 1, Consent: true, Lang: lang})
		if err != nil || res.Registration.Status != registration.Applied {
			t.Fatalf("%s: %v", name, err)
		}
		return res.Registration
	}
	rana, emma := apply("Rana", "ar"), apply("Emma", "en")
	base := "/admin/orgs/a/events/loccum/registrations"
	_, page := c.Get(base + "?status=applied")
	rid, eid := strconv.FormatInt(rana.ID, 10), strconv.FormatInt(emma.ID, 10)
	for _, want := range []string{
		`id="reason-` + rid + `-de" name="reason_de"`, `id="reason-` + rid + `-en" name="reason_en"`,
		`id="reason-` + rid + `-ar" name="reason_ar" rows="2" maxlength="2000" lang="ar" dir="rtl"`,
		`id="reason-` + eid + `-en"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the decline forms lack %s", want)
		}
	}
	if strings.Contains(page, `id="reason-`+eid+`-ar"`) || strings.Contains(page, `id="reason-`+rid+`-tr"`) {
		t.Error("the decline form asks in a language neither the event nor the applicant has")
	}

	form := url.Values{"status": {"applied"}, "reason_de": {"Diesmal leider nicht."}, "reason_en": {"Not this time, sorry."},
		"reason_ar": {"للأسف ليس هذه المرة."}}
	for _, id := range []string{rid, eid} {
		if resp, _ := c.post(base+"/"+id+"/decline", form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("decline %s: %d", id, resp.StatusCode)
		}
	}
	for who, want := range map[int64]string{rana.ID: "للأسف ليس هذه المرة.", emma.ID: "Not this time, sorry."} {
		var id int64
		if err := a.DB.Get(&id, `SELECT id FROM mail_outbox WHERE kind = 'declined' AND registration_id = $1`, who); err != nil {
			t.Fatal(err)
		}
		m, err := a.Outbox.Render(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, want) || strings.Contains(m.Text, "Diesmal") {
			t.Errorf("the decline mail of %d lacks %q:\n%s", who, want, m.Text)
		}
	}
	if e.DefaultLang != "de" {
		t.Fatalf("default language %s", e.DefaultLang)
	}
}
