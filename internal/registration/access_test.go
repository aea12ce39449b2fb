package registration_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/member"
	"treffpunkt/internal/org"
	"treffpunkt/internal/testapp"
)

var confirmLinkRE = regexp.MustCompile(`/confirm/([A-Z2-7]{26})`)

// membersEvent creates a members-only event of o with the member list of
// the reference tests: Anna by email, Bert by number (listed under
// bert@listed.example), Cem whose membership ends the day before the event,
// and Dana whose membership ends on the event's day.
func membersEvent(t *testing.T, a *testapp.App, o *org.Org, slug string, change func(*event.Input)) *event.Event {
	t.Helper()
	e := a.Event(t, o, slug, func(in *event.Input) {
		m := event.AccessMembers
		in.Access = &m
		in.MaxPartySize = ptr(4)
		if change != nil {
			change(in)
		}
	})
	day := e.StartsAt.In(e.Location())
	_, err := a.Members.ImportJSON(context.Background(), o.ID, []member.Input{
		{Name: "Anna Member", Email: "anna@example.org"},
		{Name: "Bert Member", Email: "bert@listed.example", MemberNumber: "M-2"},
		{Name: "Cem Member", Email: "cem@example.org", ValidUntil: day.AddDate(0, 0, -1).Format(time.DateOnly)},
		{Name: "Dana Member", Email: "dana@example.org", ValidUntil: day.Format(time.DateOnly)},
	}, member.Replace)
	if err != nil {
		t.Fatalf("member list: %v", err)
	}
	return e
}

func ptr[T any](v T) *T { return &v }

func applicant(name, email string) map[string]any {
	return map[string]any{"name": name, "email": email, "party_size": 1, "consent": true}
}

// outboxMail is one email in the outbox of a kind.
type outboxMail struct {
	Recipient string
	Body      string
}

// mails returns the emails of a kind in the outbox, rendered as the sender
// would send them now (it renders when it sends: docs/mail.md).
func mails(t *testing.T, a *testapp.App, kind string) []outboxMail {
	t.Helper()
	var ids []int64
	if err := a.DB.Select(&ids, `SELECT id FROM mail_outbox WHERE kind = $1 ORDER BY id`, kind); err != nil {
		t.Fatal(err)
	}
	ms := make([]outboxMail, len(ids))
	for i, id := range ids {
		m, err := a.Outbox.Render(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = outboxMail{Recipient: m.Recipient, Body: m.Text}
	}
	return ms
}

// confirmLink returns the secret of the confirmation link mailed to addr.
func confirmLink(t *testing.T, a *testapp.App, addr string) string {
	t.Helper()
	for _, m := range mails(t, a, "confirm_email") {
		if m.Recipient == addr {
			if s := confirmLinkRE.FindStringSubmatch(m.Body); s != nil {
				return s[1]
			}
		}
	}
	t.Fatalf("no confirmation link to %s", addr)
	return ""
}

// confirm follows a confirmation link as a person does: open the page,
// press the button.
func confirm(t *testing.T, a *testapp.App, secret string) (int, string) {
	t.Helper()
	b := a.Browser(t)
	code, page := b.Get("/confirm/" + secret)
	if code != http.StatusOK {
		return code, ""
	}
	resp, _ := b.PostRaw("/confirm/"+secret, url.Values{"csrf_token": {testapp.CSRF(t, page)}})
	return resp.StatusCode, resp.Header.Get("Location")
}

func seatsTaken(t *testing.T, a *testapp.App, slug string) int {
	return a.Count(t, `SELECT seats_confirmed FROM events WHERE slug = $1`, slug)
}

// A non-member (not listed, lapsed, unknown number) gets the same answer
// as a member; what differs is the email: to the typed address, saying
// whom to ask. Nothing is written.
func TestMembersOnlyRefusesNonMembersAndLapsedMemberships(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	membersEvent(t, a, o, "ag", nil)
	for _, tc := range []struct {
		name, email string
		body        map[string]any
	}{
		{"not on the list", "eve@example.org", applicant("Eve", "eve@example.org")},
		{"membership ended the day before", "cem@example.org", applicant("Cem", "cem@example.org")},
		{"unknown number", "eve2@example.org", func() map[string]any {
			b := applicant("Eve", "eve2@example.org")
			b["member_number"] = "M-99"
			return b
		}()},
	} {
		code, ans := signUp(t, a, "ag", tc.body)
		if code != http.StatusAccepted || !ans.CheckEmail {
			t.Errorf("%s: %d %+v, want 202 check_email", tc.name, code, ans)
		}
		var found bool
		for _, m := range mails(t, a, "not_a_member") {
			if m.Recipient == tc.email {
				found = true
				if !strings.Contains(m.Body, "MISO e. V.") || !strings.Contains(m.Body, "info@miso.example") {
					t.Errorf("%s: mail %q does not name whom to ask", tc.name, m.Body)
				}
			}
		}
		if !found {
			t.Errorf("%s: no not_a_member mail to %s", tc.name, tc.email)
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 0 {
		t.Fatalf("%d registrations written for refusals", n)
	}
	// A membership valid until the event's day counts.
	if code, ans := signUp(t, a, "ag", applicant("Dana", "dana@example.org")); code != http.StatusAccepted || !ans.CheckEmail {
		t.Fatalf("Dana: %d %+v", code, ans)
	}
	if ms := mails(t, a, "confirm_email"); len(ms) != 1 || ms[0].Recipient != "dana@example.org" {
		t.Fatalf("confirmation mails %+v, want one to dana@example.org", ms)
	}
}

func TestMemberEmailMatchIsPendingAndHoldsSeats(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	membersEvent(t, a, o, "ag", func(in *event.Input) { in.Capacity = event.Some(2); in.Waitlist = ptr(false) })
	body := applicant("Anna", "  ANNA@Example.org ")
	body["party_size"] = 2
	code, ans := signUp(t, a, "ag", body)
	if code != http.StatusAccepted || !ans.CheckEmail || ans.ManageURL != "" || len(ans.Tickets) != 0 {
		t.Fatalf("sign-up: %d %+v; want 202 check_email without manage link or tickets", code, ans)
	}
	if got := seatsTaken(t, a, "ag"); got != 2 {
		t.Fatalf("seats taken %d, want the 2 held", got)
	}
	// The held seats count: the event is full for the next member.
	if code, ans := signUp(t, a, "ag", applicant("Dana", "dana@example.org")); code != http.StatusConflict || ans.Error == nil || ans.Error.Code != "full" {
		t.Fatalf("sign-up on held seats: %d %+v, want 409 full", code, ans.Error)
	}
	// The same address again is not a second hold. On a members-only event
	// "full" is told before the member list is read, alike to everyone,
	// so that it tells nothing about membership.
	var existing map[string]any
	if code := a.JSON(t, http.MethodPost, "/api/v1/events/ag/registrations", "", applicant("Anna", "anna@example.org"), &existing); code != http.StatusConflict {
		t.Fatalf("same address again: %d %v", code, existing)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 1 {
		t.Fatalf("%d registrations, want 1", n)
	}
	if ms := mails(t, a, "confirm_email"); len(ms) != 1 || ms[0].Recipient != "anna@example.org" {
		t.Fatalf("confirmation mails %+v, want one to anna@example.org", ms)
	}
}

func TestMemberNumberMatchMailsTheListedAddressOnly(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	srv := a.StartMail(t)
	o := a.Org(t, "miso")
	membersEvent(t, a, o, "ag", nil)
	body := applicant("Bert", "someone-else@evil.example")
	body["member_number"] = " M-2 "
	code, ans := signUp(t, a, "ag", body)
	if code != http.StatusAccepted || !ans.CheckEmail || ans.ManageURL != "" {
		t.Fatalf("sign-up: %d %+v", code, ans)
	}
	got := srv.Wait(t, 1, 10*time.Second)
	m, err := mailtest.Parse(got[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0].To) != 1 || got[0].To[0] != "bert@listed.example" || m.To.Address != "bert@listed.example" {
		t.Fatalf("confirmation went to %v (%v), want the listed bert@listed.example", got[0].To, m.To)
	}
	if !confirmLinkRE.MatchString(string(got[0].Data)) {
		t.Fatalf("no confirmation link in the mail")
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE recipient LIKE '%evil%'`); n != 0 {
		t.Fatalf("%d mails to the typed address", n)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'bert@listed.example'`); n != 1 {
		t.Fatalf("the registration does not carry the listed address")
	}
}

func TestConfirmLinkConfirmsWithTickets(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	membersEvent(t, a, o, "ag", func(in *event.Input) { in.Capacity = event.Some(5) })
	body := applicant("Anna", "anna@example.org")
	body["party_size"] = 3
	if code, _ := signUp(t, a, "ag", body); code != http.StatusAccepted {
		t.Fatalf("sign-up: %d", code)
	}
	secret := confirmLink(t, a, "anna@example.org")
	// Opening the link (as a mail scanner does) changes nothing.
	b := a.Browser(t)
	if code, page := b.Get("/confirm/" + secret); code != http.StatusOK || !strings.Contains(page, `id="confirm"`) {
		t.Fatalf("confirm page: %d", code)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE status = 'pending'`); n != 1 {
		t.Fatalf("GET changed the registration")
	}
	// A POST without the CSRF token is refused.
	if resp, _ := b.PostRaw("/confirm/"+secret, url.Values{}); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("POST without CSRF token: %d", resp.StatusCode)
	}
	code, loc := confirm(t, a, secret)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/") {
		t.Fatalf("confirm: %d %q", code, loc)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE status = 'confirmed' AND seats_held = 0 AND confirm_token_hash IS NULL`); n != 1 {
		t.Fatalf("registration not confirmed")
	}
	if n := a.Count(t, `SELECT count(*) FROM tickets`); n != 3 {
		t.Fatalf("%d tickets, want 3", n)
	}
	if got := seatsTaken(t, a, "ag"); got != 3 {
		t.Fatalf("seats taken %d, want 3 (held seats are not counted twice)", got)
	}
	if ms := mails(t, a, "confirmed"); len(ms) != 1 || ms[0].Recipient != "anna@example.org" || !strings.Contains(ms[0].Body, "/r/") {
		t.Fatalf("confirmed mails %+v", ms)
	}
	// The link works once.
	if code, _ := confirm(t, a, secret); code != http.StatusNotFound {
		t.Fatalf("second confirm: %d, want 404", code)
	}
}

func TestHoldExpiryReleasesSeatsAndPromotesWaitlist(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	var shift atomic.Int64
	a.Registrations.SetClock(func() time.Time { return time.Now().Add(time.Duration(shift.Load())) })
	o := a.Org(t, "miso")
	membersEvent(t, a, o, "ag", func(in *event.Input) { in.Capacity = event.Some(1) })
	// Anna holds the one seat; Bert (by number) comes later and, once
	// confirmed, waits on the waitlist.
	if code, ans := signUp(t, a, "ag", applicant("Anna", "anna@example.org")); code != http.StatusAccepted || !ans.CheckEmail {
		t.Fatalf("Anna: %d %+v", code, ans)
	}
	bert := applicant("Bert", "bert@listed.example")
	if code, ans := signUp(t, a, "ag", bert); code != http.StatusAccepted || !ans.CheckEmail {
		t.Fatalf("Bert: %d %+v", code, ans)
	}
	if got := seatsTaken(t, a, "ag"); got != 1 {
		t.Fatalf("seats taken %d, want 1 (Bert holds none)", got)
	}
	if code, _ := confirm(t, a, confirmLink(t, a, "bert@listed.example")); code != http.StatusSeeOther {
		t.Fatalf("Bert confirms: %d", code)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'bert@listed.example' AND status = 'waitlisted'`); n != 1 {
		t.Fatalf("Bert is not waitlisted after confirming")
	}
	// Nothing expires before its time.
	if n, err := a.Registrations.ExpireHolds(context.Background(), 100); err != nil || n != 0 {
		t.Fatalf("early expiry: %d %v", n, err)
	}
	shift.Store(int64(25 * time.Hour))
	annasLink := confirmLink(t, a, "anna@example.org")
	// Past the hold, the link is refused even before the job has run.
	if code, _ := confirm(t, a, annasLink); code != http.StatusGone && code != http.StatusNotFound {
		t.Fatalf("confirm after the hold: %d, want 410", code)
	}
	if n, err := a.Registrations.ExpireHolds(context.Background(), 100); err != nil || n != 1 {
		t.Fatalf("expiry: %d %v, want 1", n, err)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'anna@example.org' AND status = 'expired'`); n != 1 {
		t.Fatalf("Anna not expired")
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'bert@listed.example' AND status = 'confirmed'`); n != 1 {
		t.Fatalf("Bert not promoted")
	}
	if got := seatsTaken(t, a, "ag"); got != 1 {
		t.Fatalf("seats taken %d, want 1", got)
	}
	if ms := mails(t, a, "hold_expired"); len(ms) != 1 || ms[0].Recipient != "anna@example.org" {
		t.Fatalf("hold_expired mails %+v", ms)
	}
	if ms := mails(t, a, "promoted"); len(ms) != 1 || ms[0].Recipient != "bert@listed.example" {
		t.Fatalf("promoted mails %+v", ms)
	}
	// Running again is harmless.
	if n, err := a.Registrations.ExpireHolds(context.Background(), 100); err != nil || n != 0 {
		t.Fatalf("second expiry: %d %v", n, err)
	}
}

func TestEmailConfirmationEventPutsEverySignupThroughPending(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "faust")
	a.Event(t, o, "quiz", func(in *event.Input) { in.ConfirmEmail = ptr(true); in.Capacity = event.Some(10) })
	code, ans := signUp(t, a, "quiz", applicant("Quiz Fan", "Fan@Example.org"))
	if code != http.StatusCreated || ans.Status != "pending" || ans.ManageURL != "" {
		t.Fatalf("sign-up: %d %+v", code, ans)
	}
	if got := seatsTaken(t, a, "quiz"); got != 1 {
		t.Fatalf("seats taken %d, want 1 held", got)
	}
	if code, _ := confirm(t, a, confirmLink(t, a, "Fan@example.org")); code != http.StatusSeeOther { // the domain is stored lower-case
		t.Fatalf("confirm: %d", code)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE status = 'confirmed'`); n != 1 {
		t.Fatalf("not confirmed")
	}
	// Cancelling a pending registration gives its held seats back.
	if code, _ := signUp(t, a, "quiz", applicant("Other", "other@example.org")); code != http.StatusCreated {
		t.Fatalf("second sign-up: %d", code)
	}
	// The table keeps only the manage token's hash: ask the service.
	rs, err := a.Registrations.ListForEvent(context.Background(), int64(a.Count(t, `SELECT id FROM events WHERE slug = 'quiz'`)))
	if err != nil {
		t.Fatal(err)
	}
	var tok string
	for _, r := range rs {
		// A pending address is hidden from the organisers' list until it is confirmed.
		if r.Name == "Other" {
			tok = r.ManageToken
		}
	}
	if code := a.JSON(t, http.MethodPost, "/api/v1/registrations/"+tok+"/cancel", "", nil, nil); code != http.StatusOK {
		t.Fatalf("cancel: %d", code)
	}
	if got := seatsTaken(t, a, "quiz"); got != 1 {
		t.Fatalf("seats taken %d after cancelling a hold, want 1", got)
	}
}

// An organiser's "resend" gives a pending registration a new link; the old
// one stops working.
func TestResendGivesAPendingRegistrationANewLink(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := membersEvent(t, a, o, "ag", nil)
	if code, _ := signUp(t, a, "ag", applicant("Anna", "anna@example.org")); code != http.StatusAccepted {
		t.Fatal(code)
	}
	old := confirmLink(t, a, "anna@example.org")
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM registrations`); err != nil {
		t.Fatal(err)
	}
	if err := a.Registrations.ResendConfirmation(context.Background(), e.ID, id); err != nil {
		t.Fatal(err)
	}
	ms := mails(t, a, "confirm_email")
	if len(ms) != 2 {
		t.Fatalf("%d confirmation mails, want 2", len(ms))
	}
	fresh := confirmLinkRE.FindStringSubmatch(ms[1].Body)[1]
	if code, _ := confirm(t, a, old); code != http.StatusNotFound {
		t.Fatalf("old link: %d, want 404", code)
	}
	if code, _ := confirm(t, a, fresh); code != http.StatusSeeOther {
		t.Fatalf("new link: %d", code)
	}
}

// partnerEvent is membersEvent with kargah as partner organisation, whose
// list has Kira (by email), Kemal (by number K-7, listed as
// kemal@kargah.example), Lale (membership ended the day before the event)
// and someone else under MiSO's number M-2; faust, not a partner, has Fritz.
func partnerEvent(t *testing.T, a *testapp.App) *event.Event {
	t.Helper()
	miso, kargah, faust := a.Org(t, "miso"), a.Org(t, "kargah"), a.Org(t, "faust")
	e := membersEvent(t, a, miso, "ag", func(in *event.Input) {
		in.Capacity = event.Some(10)
		in.PartnerOrgs = &[]string{"kargah"}
	})
	day := e.StartsAt.In(e.Location())
	ctx := context.Background()
	if _, err := a.Events.DecidePartnership(ctx, kargah.ID, e.Slug, true, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Members.ImportJSON(ctx, kargah.ID, []member.Input{
		{Name: "Kira", Email: "kira@kargah.example"},
		{Name: "Kemal", Email: "kemal@kargah.example", MemberNumber: "K-7"},
		{Name: "Lale", Email: "lale@kargah.example", ValidUntil: day.AddDate(0, 0, -1).Format(time.DateOnly)},
		{Name: "Other M-2", Email: "other-m2@kargah.example", MemberNumber: "M-2"},
	}, member.Replace); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Members.ImportJSON(ctx, faust.ID, []member.Input{{Name: "Fritz", Email: "fritz@faust.example", MemberNumber: "F-1"}}, member.Replace); err != nil {
		t.Fatal(err)
	}
	return e
}

// On a members-only event that names partner organisations, their members
// match by the same rules as the presenting organisation's (email any case,
// number with the link to the listed address, valid on the event's day);
// members of other organisations get the same answer and a mail naming
// the presenting organisation and its address.
func TestPartnerOrganisationsMembersMayJoin(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	partnerEvent(t, a)
	if code, ans := signUp(t, a, "ag", applicant("Kira", " kira@KARGAH.example")); code != http.StatusAccepted || !ans.CheckEmail || ans.ManageURL != "" {
		t.Fatalf("partner member by email: %d %+v", code, ans)
	}
	kemal := applicant("Kemal", "typed@elsewhere.example")
	kemal["member_number"] = "K-7"
	if code, ans := signUp(t, a, "ag", kemal); code != http.StatusAccepted || !ans.CheckEmail {
		t.Fatalf("partner member by number: %d %+v", code, ans)
	}
	// M-2 is on both lists: the presenting organisation's member wins.
	bert := applicant("Bert", "typed2@elsewhere.example")
	bert["member_number"] = "M-2"
	if code, ans := signUp(t, a, "ag", bert); code != http.StatusAccepted || !ans.CheckEmail {
		t.Fatalf("number on both lists: %d %+v", code, ans)
	}
	var to []string
	for _, m := range mails(t, a, "confirm_email") {
		to = append(to, m.Recipient)
	}
	if strings.Join(to, " ") != "kira@kargah.example kemal@kargah.example bert@listed.example" {
		t.Fatalf("confirmation links went to %v", to)
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE recipient LIKE '%elsewhere%'`); n != 0 {
		t.Fatalf("%d mails to a typed address", n)
	}
	// Kemal's link (to the listed address) confirms.
	if code, loc := confirm(t, a, confirmLink(t, a, "kemal@kargah.example")); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/") {
		t.Fatalf("confirm: %d %q", code, loc)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'kemal@kargah.example' AND status = 'confirmed'`); n != 1 {
		t.Fatal("Kemal not confirmed")
	}
	fritz := applicant("Fritz", "fritz@faust.example")
	fritzNo := applicant("Fritz", "f@example.org")
	fritzNo["member_number"] = "F-1"
	for name, body := range map[string]map[string]any{
		"lapsed partner membership": applicant("Lale", "lale@kargah.example"),
		"member of another org":     fritz,
		"number of another org":     fritzNo,
		"not on any list":           applicant("Eve", "eve@example.org"),
	} {
		if code, ans := signUp(t, a, "ag", body); code != http.StatusAccepted || !ans.CheckEmail {
			t.Errorf("%s: %d %+v, want 202 check_email", name, code, ans)
		}
	}
	var strangers []string
	for _, m := range mails(t, a, "not_a_member") {
		strangers = append(strangers, m.Recipient)
		for _, want := range []string{"MISO e. V.", "info@miso.example"} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("not_a_member mail to %s does not name %q", m.Recipient, want)
			}
		}
	}
	if len(strangers) != 4 {
		t.Errorf("not_a_member mails to %v, want the 4 typed addresses", strangers)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 3 {
		t.Fatalf("%d registrations, want the 3 members'", n)
	}
}
