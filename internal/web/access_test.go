package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/member"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

var formConfirmLinkRE = regexp.MustCompile(`/confirm/([A-Z2-7]{26})`)

// membersOnlyEvent creates a members-only event with Anna (by email), Bert
// (by number, listed as bert@listed.example) and Cem (membership ended the
// day before the event) on the list.
func membersOnlyEvent(t *testing.T, a *testapp.App) {
	t.Helper()
	membersOnlyEventWith(t, a, nil)
}

// membersOnlyEventWith is membersOnlyEvent with change applied to the
// event's input; it returns the presenting organisation.
func membersOnlyEventWith(t *testing.T, a *testapp.App, change func(*event.Input)) *org.Org {
	t.Helper()
	o := a.Org(t, "miso")
	e := a.Event(t, o, "ag", func(in *event.Input) {
		m := event.AccessMembers
		in.Access = &m
		in.Capacity = event.Some(10)
		if change != nil {
			change(in)
		}
	})
	day := e.StartsAt.In(e.Location())
	_, err := a.Members.ImportJSON(context.Background(), o.ID, []member.Input{
		{Name: "Anna", Email: "anna@example.org"},
		{Name: "Bert", Email: "bert@listed.example", MemberNumber: "M-2"},
		{Name: "Cem", Email: "cem@example.org", ValidUntil: day.AddDate(0, 0, -1).Format(time.DateOnly)},
	}, member.Replace)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func formSignup(t *testing.T, a *testapp.App, slug string, f url.Values) (*http.Response, string) {
	t.Helper()
	f.Set("consent", "yes")
	return a.Browser(t).Post("/events/"+slug, "/events/"+slug+"/register", f)
}

func TestFormMembersOnlyBranches(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	membersOnlyEvent(t, a)
	if _, page := a.Browser(t).Get("/events/ag"); !strings.Contains(page, `name="member_number"`) {
		t.Fatal("the form of a members-only event does not ask for the member number")
	}
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"non-member", url.Values{"name": {"Eve"}, "email": {"eve@example.org"}}},
		{"lapsed membership", url.Values{"name": {"Cem"}, "email": {"cem@example.org"}}},
	} {
		// The same answer as a member's; the mail to the typed address
		// names whom to ask.
		resp, page := formSignup(t, a, "ag", tc.form)
		if resp.StatusCode != http.StatusAccepted || !strings.Contains(page, `id="notice"`) {
			t.Errorf("%s: %d, want 202 with the notice", tc.name, resp.StatusCode)
		}
		if body := mailBody(t, a, "not_a_member", tc.form.Get("email")); !strings.Contains(body, "MISO e. V.") || !strings.Contains(body, "info@miso.example") {
			t.Errorf("%s: the mail does not name the organisation and its address", tc.name)
		}
	}
	// Email match: pending, the page says a link was sent; no manage link.
	resp, page := formSignup(t, a, "ag", url.Values{"name": {"Anna"}, "email": {"Anna@Example.org"}})
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(page, `id="notice"`) || strings.Contains(page, "/r/") {
		t.Fatalf("email match: %d", resp.StatusCode)
	}
	// Number match: the link goes to the listed address, not the typed one.
	resp, _ = formSignup(t, a, "ag", url.Values{"name": {"Bert"}, "email": {"typed@elsewhere.example"}, "member_number": {"M-2"}})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("number match: %d", resp.StatusCode)
	}
	var to []string
	if err := a.DB.Select(&to, `SELECT recipient FROM mail_outbox WHERE kind = 'confirm_email' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(to) != 2 || to[0] != "anna@example.org" || to[1] != "bert@listed.example" {
		t.Fatalf("confirmation mails to %v", to)
	}
	// The link confirms: GET shows a button, POST (with CSRF) confirms and
	// shows the registration with its tickets.
	var body string
	// The sender renders a mail when it sends it: render it as it would.
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM mail_outbox WHERE recipient = 'bert@listed.example'`); err != nil {
		t.Fatal(err)
	}
	if m, err := a.Outbox.Render(context.Background(), id); err != nil {
		t.Fatal(err)
	} else {
		body = m.Text
	}
	link := "/confirm/" + formConfirmLinkRE.FindStringSubmatch(body)[1]
	b := a.Browser(t)
	code, page := b.Get(link)
	if code != http.StatusOK {
		t.Fatalf("confirm page: %d", code)
	}
	resp, _ = b.PostRaw(link, url.Values{"csrf_token": {testapp.CSRF(t, page)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	code, page = b.Get(resp.Header.Get("Location"))
	if code != http.StatusOK || !strings.Contains(page, "/qr.svg") || !strings.Contains(page, "bert@listed.example") || !strings.Contains(page, `id="retention"`) {
		t.Fatalf("registration after confirming: %d", code)
	}
}

// Age range through the form: the day before the 17th birthday is too
// young, the birthday itself counts.
func TestFormAgeBoundaries(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "loccum", func(in *event.Input) { in.MinAge, in.MaxAge = event.Some(17), event.Some(27) })
	start := e.StartsAt.In(e.Location())
	birth := func(years, shift int) string {
		return time.Date(start.Year()-years, start.Month(), start.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, shift).Format(time.DateOnly)
	}
	for i, tc := range []struct {
		birth string
		code  int
	}{
		{birth(17, 1), http.StatusForbidden},           // 17 the day after the start
		{birth(17, 0), http.StatusSeeOther},            // 17 on the day
		{birth(28, 0), http.StatusForbidden},           // 28 on the day
		{birth(28, 1), http.StatusSeeOther},            // still 27
		{"", http.StatusUnprocessableEntity},           // missing
		{"2001-02-30", http.StatusUnprocessableEntity}, // impossible
	} {
		resp, page := formSignup(t, a, "loccum", url.Values{
			"name": {"Jugendliche"}, "email": {"j" + string(rune('a'+i)) + "@example.org"}, "birth_date": {tc.birth},
		})
		if resp.StatusCode != tc.code {
			t.Errorf("birth %q: %d, want %d", tc.birth, resp.StatusCode, tc.code)
		}
		if tc.code == http.StatusUnprocessableEntity && !strings.Contains(page, `id="e-birth_date"`) {
			t.Errorf("birth %q: the field is not marked", tc.birth)
		}
	}
}

// The attendee list erases one person on request (POST with the CSRF token).
func TestAttendeeEraseOnRequest(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	c := w.client(w.A.Organiser)
	_, page := c.Get("/admin/orgs/a/events/fest-a/registrations")
	if !strings.Contains(page, "/erase") {
		t.Fatal("no erase button on the attendee list")
	}
	resp, _ := c.post("/admin/orgs/a/events/fest-a/registrations/"+strconv.FormatInt(w.A.Confirmed.ID, 10)+"/erase", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("erase: %d", resp.StatusCode)
	}
	if n := w.Count(t, `SELECT count(*) FROM registrations WHERE id = $1 AND name = '' AND email = ''`, w.A.Confirmed.ID); n != 1 {
		t.Fatal("not erased")
	}
	if n := w.Count(t, `SELECT count(*) FROM registrations WHERE id = $1 AND status = 'confirmed'`, w.A.Waitlisted.ID); n != 1 {
		t.Fatal("the waitlisted party did not move up")
	}
}

// An event set to confirm email addresses answers the form with "check your
// mail", holds the seat, and mails the link to the typed address.
func TestFormEmailConfirmationEvent(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "faust")
	yes := true
	a.Event(t, o, "quiz", func(in *event.Input) { in.ConfirmEmail = &yes; in.Capacity = event.Some(3) })
	resp, page := formSignup(t, a, "quiz", url.Values{"name": {"Team Linden"}, "email": {"team@example.org"}})
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(page, `id="notice"`) {
		t.Fatalf("sign-up: %d", resp.StatusCode)
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'confirm_email' AND recipient = 'team@example.org'`); n != 1 {
		t.Fatal("no confirmation link to the typed address")
	}
	if n := a.Count(t, `SELECT seats_confirmed FROM events WHERE slug = 'quiz'`); n != 1 {
		t.Fatalf("seats taken %d, want 1 held", n)
	}
}

// confirmByForm follows a confirmation link as a person does (open the
// page, press the button) and returns the answer's status and Location.
func confirmByForm(t *testing.T, a *testapp.App, body string) (int, string) {
	t.Helper()
	m := formConfirmLinkRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no confirmation link in the mail")
	}
	b := a.Browser(t)
	code, page := b.Get("/confirm/" + m[1])
	if code != http.StatusOK {
		return code, ""
	}
	resp, _ := b.PostRaw("/confirm/"+m[1], url.Values{"csrf_token": {testapp.CSRF(t, page)}})
	return resp.StatusCode, resp.Header.Get("Location")
}

// mailBody is the text of the newest mail of kind to an address, rendered
// as the sender will render it.
func mailBody(t *testing.T, a *testapp.App, kind, to string) string {
	t.Helper()
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM mail_outbox WHERE kind = $1 AND recipient = $2 ORDER BY id DESC LIMIT 1`, kind, to); err != nil {
		t.Fatalf("no %s mail to %s: %v", kind, to, err)
	}
	m, err := a.Outbox.Render(context.Background(), id)
	if err != nil {
		t.Fatalf("render %s mail to %s: %v", kind, to, err)
	}
	return m.Text
}

// Hold expiry after sign-ups through the form: Anna holds the one seat and
// lets her link lapse; Bert, who confirmed onto the waitlist, moves up.
func TestFormHoldExpiryReleasesSeatsAndPromotesWaitlist(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	var shift atomic.Int64
	a.Registrations.SetClock(func() time.Time { return time.Now().Add(time.Duration(shift.Load())) })
	membersOnlyEventWith(t, a, func(in *event.Input) { in.Capacity = event.Some(1) })
	if resp, _ := formSignup(t, a, "ag", url.Values{"name": {"Anna"}, "email": {"anna@example.org"}}); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("Anna: %d", resp.StatusCode)
	}
	if resp, _ := formSignup(t, a, "ag", url.Values{"name": {"Bert"}, "email": {"b@typed.example"}, "member_number": {"M-2"}}); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("Bert: %d", resp.StatusCode)
	}
	if n := a.Count(t, `SELECT seats_confirmed FROM events WHERE slug = 'ag'`); n != 1 {
		t.Fatalf("seats taken %d, want Anna's 1 held", n)
	}
	code, loc := confirmByForm(t, a, mailBody(t, a, "confirm_email", "bert@listed.example"))
	if code != http.StatusSeeOther {
		t.Fatalf("Bert confirms: %d", code)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'bert@listed.example' AND status = 'waitlisted'`); n != 1 {
		t.Fatal("Bert is not on the waitlist after confirming")
	}
	if n, err := a.Registrations.ExpireHolds(context.Background(), 100); err != nil || n != 0 {
		t.Fatalf("early expiry: %d %v", n, err)
	}
	shift.Store(int64(registration.DefaultHold + time.Minute))
	if code, _ := confirmByForm(t, a, mailBody(t, a, "confirm_email", "anna@example.org")); code != http.StatusGone {
		t.Fatalf("Anna's lapsed link: %d, want 410", code)
	}
	if n, err := a.Registrations.ExpireHolds(context.Background(), 100); err != nil || n != 1 {
		t.Fatalf("expiry: %d %v, want 1", n, err)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'anna@example.org' AND status = 'expired'`); n != 1 {
		t.Fatal("Anna's hold is not expired")
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'bert@listed.example' AND status = 'confirmed'`); n != 1 {
		t.Fatal("Bert was not promoted")
	}
	if n := a.Count(t, `SELECT seats_confirmed FROM events WHERE slug = 'ag'`); n != 1 {
		t.Fatalf("seats taken %d, want Bert's 1", n)
	}
	mailBody(t, a, "hold_expired", "anna@example.org")
	mailBody(t, a, "promoted", "bert@listed.example")
	// Bert's page (from his confirmation) now shows his ticket.
	if code, page := a.Browser(t).Get(loc); code != http.StatusOK || !strings.Contains(page, "/qr.svg") {
		t.Fatalf("Bert's registration page: %d", code)
	}
}

// A partner organisation's member signs up through the form by member
// number once the partner has accepted: the link goes over SMTP to the
// address on the partner's list, and a non-member gets the same answer and
// a mail naming the presenting organisation.
func TestFormPartnerMemberByNumberGetsTheLinkAtTheListedAddress(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	srv := a.StartMail(t)
	kargah := a.Org(t, "kargah")
	if _, err := a.Members.ImportJSON(context.Background(), kargah.ID, []member.Input{
		{Name: "Kemal", Email: "kemal@kargah.example", MemberNumber: "K-7"},
	}, member.Replace); err != nil {
		t.Fatal(err)
	}
	membersOnlyEventWith(t, a, func(in *event.Input) { in.PartnerOrgs = &[]string{"kargah"} })
	if _, err := a.Events.DecidePartnership(context.Background(), kargah.ID, "ag", true, 0); err != nil {
		t.Fatal(err)
	}
	if _, page := a.Browser(t).Get("/events/ag"); !strings.Contains(page, "KARGAH e. V.") || !strings.Contains(page, "Mitgliederliste deiner Organisation") {
		t.Fatal("the event page does not name the partner, or the member number hint names only MiSO")
	}
	resp, _ := formSignup(t, a, "ag", url.Values{"name": {"Eve"}, "email": {"eve@example.org"}, "member_number": {"K-8"}})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("non-member: %d", resp.StatusCode)
	}
	if body := mailBody(t, a, "not_a_member", "eve@example.org"); !strings.Contains(body, "MISO e. V.") || !strings.Contains(body, "info@miso.example") {
		t.Errorf("the non-member's mail does not say whom to ask")
	}
	resp, _ = formSignup(t, a, "ag", url.Values{"name": {"Kemal"}, "email": {"typed@elsewhere.example"}, "member_number": {" K-7 "}})
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("partner member by number: %d", resp.StatusCode)
	}
	got := srv.Wait(t, 2, 10*time.Second)
	var link *mailtest.Message
	for _, r := range got {
		m, err := mailtest.Parse(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		if formConfirmLinkRE.MatchString(m.Text) {
			link = m
			if len(r.To) != 1 || r.To[0] != "kemal@kargah.example" {
				t.Fatalf("the link went to %v, want the listed kemal@kargah.example", r.To)
			}
		}
	}
	if link == nil || link.To.Address != "kemal@kargah.example" {
		t.Fatalf("no link to the listed kemal@kargah.example")
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE recipient LIKE '%elsewhere%'`); n != 0 {
		t.Fatal("a mail went to the typed address")
	}
	if code, loc := confirmByForm(t, a, mailBody(t, a, "confirm_email", "kemal@kargah.example")); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/") {
		t.Fatalf("confirm: %d %q", code, loc)
	}
}

// Retention of a sign-up made through the form, with a clock the test
// controls: the page says how long data is kept; a minute before the
// period nothing goes, a minute after the name, email and birth date go.
func TestFormRetentionWithAControlledClock(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	setNow := a.SettableClock()
	o := a.Org(t, "miso")
	e := a.Event(t, o, "loccum", func(in *event.Input) { in.MinAge = event.Some(17) })
	if _, page := a.Browser(t).Get("/events/loccum"); !strings.Contains(page, "90 Tage nach der Veranstaltung automatisch gelöscht") {
		t.Fatal("the form does not say how long data is kept")
	}
	resp, _ := formSignup(t, a, "loccum", url.Values{"name": {"Jana Jung"}, "email": {"jana@example.org"}, "birth_date": {"2000-01-01"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up: %d", resp.StatusCode)
	}
	if code, page := a.Browser(t).Get(resp.Header.Get("Location")); code != http.StatusOK || !strings.Contains(page, `id="retention"`) {
		t.Fatalf("registration page: %d, want the retention note", code)
	}
	retention := time.Duration(a.Config.RetentionDays) * 24 * time.Hour
	setNow(e.EndsAt.Add(retention - time.Minute))
	if n, err := a.Registrations.EraseExpired(context.Background(), retention, 100); err != nil || n.Registrations != 0 {
		t.Fatalf("a minute early: %+v %v", n, err)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE name = 'Jana Jung' AND birth_date IS NOT NULL`); n != 1 {
		t.Fatal("data erased early")
	}
	setNow(e.EndsAt.Add(retention + time.Minute))
	if n, err := a.Registrations.EraseExpired(context.Background(), retention, 100); err != nil || n.Registrations != 1 {
		t.Fatalf("erase: %+v %v", n, err)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE name = '' AND email = '' AND birth_date IS NULL AND erased_at IS NOT NULL AND status = 'confirmed'`); n != 1 {
		t.Fatal("the form's sign-up was not erased, or its status was lost")
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE recipient <> '' OR body_text LIKE '%Jana%'`); n != 0 {
		t.Fatalf("%d mails keep personal data", n)
	}
}

// The event editor takes partner organisations as a list of slugs and
// marks an unknown one, or the organisation itself, at the field.
func TestEventEditorPartnerOrganisations(t *testing.T) {
	t.Parallel()
	a, c := admOrganiser(t)
	a.Org(t, "kargah")
	a.Org(t, "faust")
	for _, bad := range []string{"kargah, nope", "a", "kargah kargah"} {
		f := admEventForm("ag")
		f.Set("access", "members")
		f.Set("partner_orgs", bad)
		resp, page := c.post("/admin/orgs/a/new-event", f)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `id="e-partner_orgs"`) || !strings.Contains(page, `href="#f-partner_orgs"`) {
			t.Fatalf("partners %q: %d, want 422 at the field", bad, resp.StatusCode)
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM events`); n != 0 {
		t.Fatalf("%d events saved", n)
	}
	f := admEventForm("ag")
	f.Set("access", "members")
	f.Set("partner_orgs", "Kargah,faust")
	f.Set("action", "publish")
	if resp, page := c.post("/admin/orgs/a/new-event", f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%.600s", resp.StatusCode, page)
	}
	e, err := a.Events.Get(t.Context(), "ag")
	if err != nil || strings.Join(e.Partners.Slugs(), ",") != "kargah,faust" {
		t.Fatalf("stored partners %v %v", e.Partners, err)
	}
	if _, page := c.Get("/admin/orgs/a/events/ag"); !strings.Contains(page, `value="kargah, faust"`) {
		t.Fatal("the editor does not show the partners")
	}
	f = admEventForm("")
	f.Set("access", "members")
	f.Set("partner_orgs", "")
	if resp, _ := c.post("/admin/orgs/a/events/ag", f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove partners: %d", resp.StatusCode)
	}
	if e, _ := a.Events.Get(t.Context(), "ag"); len(e.Partners) != 0 {
		t.Fatalf("partners after clearing the field: %v", e.Partners)
	}
}
