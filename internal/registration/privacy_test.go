package registration_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/member"
	"treffpunkt/internal/org"
	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testdb"
)

// Issue 16, findings 2 and 3: membership in some organisations is
// sensitive, and knowing an address must reveal nothing silently.

// requestedPartnerEvent is a members-only event of miso naming kargah as
// partner, which kargah has not answered; kargah lists Kira and Kemal (K-7).
func requestedPartnerEvent(t *testing.T, a *testapp.App) (miso, kargah *org.Org) {
	t.Helper()
	miso, kargah = a.Org(t, "miso"), a.Org(t, "kargah")
	membersEvent(t, a, miso, "ag", func(in *event.Input) {
		in.Capacity = event.Some(10)
		in.PartnerOrgs = &[]string{"kargah"}
	})
	if _, err := a.Members.ImportJSON(context.Background(), kargah.ID, []member.Input{
		{Name: "Kira", Email: "kira@kargah.example"},
		{Name: "Kemal", Email: "kemal@kargah.example", MemberNumber: "K-7"},
	}, member.Replace); err != nil {
		t.Fatal(err)
	}
	return miso, kargah
}

func TestPartnerMembersMatchOnlyOnceThePartnershipIsAccepted(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	_, kargah := requestedPartnerEvent(t, a)
	kemal := applicant("Kemal", "typed@elsewhere.example")
	kemal["member_number"] = "K-7"
	for _, body := range []map[string]any{applicant("Kira", "kira@kargah.example"), kemal} {
		if code, ans := signUp(t, a, "ag", body); code != http.StatusAccepted || !ans.CheckEmail {
			t.Fatalf("sign-up: %d %+v", code, ans)
		}
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 0 {
		t.Fatalf("%d registrations: a requested partnership opened kargah's member list", n)
	}
	if ms := mails(t, a, "confirm_email"); len(ms) != 0 {
		t.Fatalf("confirmation mails %+v: kargah's list was consulted", ms)
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE recipient LIKE '%kemal%'`); n != 0 {
		t.Fatalf("mail to kargah's listed address before the partnership was accepted")
	}
	// The public page does not name an unaccepted partner either.
	if _, page := a.Browser(t).Get("/events/ag"); strings.Contains(page, "KARGAH") {
		t.Fatal("the event page names a partner that has not accepted")
	}

	// kargah's owner (here a network-admin token) accepts: now they match.
	admin, err := a.Auth.AddAdminToken(context.Background(), kargah.ID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/kargah/partnerships/ag/accept", admin, nil, &p); code != http.StatusOK || p["status"] != "accepted" {
		t.Fatalf("accept: %d %v", code, p)
	}
	if code, ans := signUp(t, a, "ag", applicant("Kira", "kira@kargah.example")); code != http.StatusAccepted || !ans.CheckEmail {
		t.Fatalf("sign-up after accepting: %d %+v", code, ans)
	}
	if ms := mails(t, a, "confirm_email"); len(ms) != 1 || ms[0].Recipient != "kira@kargah.example" {
		t.Fatalf("confirmation mails %+v, want one to Kira", ms)
	}
	// Declining again closes the list.
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/kargah/partnerships/ag/decline", admin, nil, &p); code != http.StatusOK || p["status"] != "declined" {
		t.Fatalf("decline: %d %v", code, p)
	}
	signUp(t, a, "ag", kemal)
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE email = 'kemal@kargah.example'`); n != 0 {
		t.Fatal("a declined partner's member matched")
	}
}

func TestOnlyOwnersOfThePartnerOrganisationDecideAPartnership(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	miso, kargah := requestedPartnerEvent(t, a)
	organiser := a.Token(t, kargah, "organiser")
	presenter := a.Token(t, miso, "organiser")
	var ans map[string]any
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/kargah/partnerships/ag/accept", organiser, nil, &ans); code != http.StatusForbidden {
		t.Fatalf("kargah organiser accepts: %d, want 403", code)
	}
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/kargah/partnerships/ag/accept", presenter, nil, &ans); code != http.StatusNotFound {
		t.Fatalf("the presenting organisation accepts for kargah: %d, want 404", code)
	}
	// The presenting organisation's own partnerships know no such request.
	admin, err := a.Auth.AddAdminToken(context.Background(), miso.ID, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/miso/partnerships/ag/accept", admin, nil, &ans); code != http.StatusNotFound {
		t.Fatalf("accepting as miso: %d, want 404", code)
	}
	if n := a.Count(t, `SELECT count(*) FROM event_partners WHERE status = 'requested'`); n != 1 {
		t.Fatal("a refused call changed the partnership")
	}
	// The event shows the partner as requested, and editing the event
	// keeps an acceptance.
	var ev struct {
		Partners []struct{ Slug, Name, Status string } `json:"partners"`
	}
	if code := a.JSON(t, http.MethodGet, "/api/v1/orgs/miso/events/ag", presenter, nil, &ev); code != http.StatusOK || len(ev.Partners) != 1 || ev.Partners[0].Status != "requested" {
		t.Fatalf("event partners: %d %+v", code, ev.Partners)
	}
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/kargah/partnerships/ag/accept", admin, nil, &ans); code != http.StatusOK {
		t.Fatalf("accept: %d", code)
	}
	if code := a.JSON(t, http.MethodPatch, "/api/v1/orgs/miso/events/ag", presenter, map[string]any{"partner_orgs": []string{"kargah"}, "capacity": 12}, &ev); code != http.StatusOK || ev.Partners[0].Status != "accepted" {
		t.Fatalf("after an edit: %d %+v", code, ev.Partners)
	}
	var list struct {
		Partnerships []struct{ Event, Org, Status string } `json:"partnerships"`
	}
	if code := a.JSON(t, http.MethodGet, "/api/v1/orgs/kargah/partnerships", admin, nil, &list); code != http.StatusOK || len(list.Partnerships) != 1 || list.Partnerships[0].Org != "miso" {
		t.Fatalf("partnerships: %d %+v", code, list)
	}
}

// A member (by number, typed address elsewhere), a non-member and a member
// already registered get the same status and body; the mails, sent over
// SMTP, go to the listed address, to the typed one, and to the listed one.
func TestMembersAndNonMembersGetTheSameAnswer(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	srv := a.StartMail(t)
	membersEvent(t, a, a.Org(t, "miso"), "ag", nil)
	member := applicant("Bert", "typed@elsewhere.example")
	member["member_number"] = "M-2"
	stranger := applicant("Eve", "eve@example.org")
	stranger["member_number"] = "M-99"
	var bodies []string
	var codes []int
	for _, body := range []map[string]any{member, stranger, member} {
		var raw json.RawMessage
		codes = append(codes, a.JSON(t, http.MethodPost, "/api/v1/events/ag/registrations", "", body, &raw))
		bodies = append(bodies, string(raw))
	}
	if codes[0] != http.StatusAccepted || codes[1] != codes[0] || codes[2] != codes[0] {
		t.Fatalf("codes %v, want the same 202 for all", codes)
	}
	if bodies[1] != bodies[0] || bodies[2] != bodies[0] {
		t.Fatalf("bodies differ:\n%s\n%s\n%s", bodies[0], bodies[1], bodies[2])
	}
	got := srv.Wait(t, 3, 15*time.Second)
	to := map[string]string{}
	for _, r := range got {
		m, err := mailtest.Parse(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		to[m.To.Address] += m.Text
	}
	if !confirmLinkRE.MatchString(to["bert@listed.example"]) {
		t.Errorf("no confirmation link to the listed address; mails to %v", keys(to))
	}
	if !strings.Contains(to["bert@listed.example"], "/r/") {
		t.Errorf("no 'registration again' mail with its link to the listed address")
	}
	if !strings.Contains(to["eve@example.org"], "info@miso.example") {
		t.Errorf("the non-member's mail does not say whom to ask: %q", to["eve@example.org"])
	}
	if _, ok := to["typed@elsewhere.example"]; ok || len(to) != 2 {
		t.Errorf("mails to %v, want only the listed and the non-member's address", keys(to))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestOrganiserListsHideTheListedAddressUntilConfirmed(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	membersEvent(t, a, o, "ag", nil)
	tok := a.Token(t, o, "organiser")
	body := applicant("Bert", "typed@elsewhere.example")
	body["member_number"] = "M-2"
	signUp(t, a, "ag", body)
	var list struct {
		Registrations []struct {
			Email                string `json:"email"`
			Status               string `json:"status"`
			AwaitingConfirmation bool   `json:"awaiting_confirmation"`
		} `json:"registrations"`
	}
	raw := func() string {
		var r json.RawMessage
		a.JSON(t, http.MethodGet, "/api/v1/orgs/miso/events/ag/registrations", tok, nil, &r)
		return string(r)
	}
	if s := raw(); strings.Contains(s, "bert@listed.example") {
		t.Fatalf("the list shows the listed address before confirmation: %s", s)
	}
	if code := a.JSON(t, http.MethodGet, "/api/v1/orgs/miso/events/ag/registrations", tok, nil, &list); code != http.StatusOK ||
		len(list.Registrations) != 1 || list.Registrations[0].Email != "" || !list.Registrations[0].AwaitingConfirmation {
		t.Fatalf("list: %d %+v", code, list)
	}
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/api/v1/orgs/miso/events/ag/registrations.csv", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		csv.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	if strings.Contains(csv.String(), "bert@listed.example") {
		t.Fatalf("the CSV shows the listed address before confirmation:\n%s", csv.String())
	}
	// Once the member followed the link, the address is theirs and shown.
	if code, _ := confirm(t, a, confirmLink(t, a, "bert@listed.example")); code != http.StatusSeeOther {
		t.Fatalf("confirm: %d", code)
	}
	if s := raw(); !strings.Contains(s, "bert@listed.example") {
		t.Fatalf("the confirmed address is not shown: %s", s)
	}
}

func TestMemberNumberAttemptsAreLimitedPerClientIP(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	a := testapp.OnDBWith(t, db, func(c *config.Config) { c.MemberNumberRatePerIP = 3 })
	membersEvent(t, a, a.Org(t, "miso"), "ag", nil)
	try := func(i int) int {
		b := applicant("Guess", "guess@example.org")
		b["member_number"] = "M-" + string(rune('a'+i))
		code, _ := signUp(t, a, "ag", b)
		return code
	}
	for i := range 3 {
		if code := try(i); code != http.StatusAccepted {
			t.Fatalf("attempt %d: %d", i+1, code)
		}
	}
	var ans struct {
		Error struct{ Code string } `json:"error"`
	}
	b := applicant("Guess", "guess@example.org")
	b["member_number"] = "M-2"
	if code := a.JSON(t, http.MethodPost, "/api/v1/events/ag/registrations", "", b, &ans); code != http.StatusTooManyRequests || ans.Error.Code != "rate_limited" {
		t.Fatalf("4th attempt: %d %+v, want 429 rate_limited", code, ans)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 0 {
		t.Fatal("the refused attempt was written")
	}
	// A sign-up without a number is not counted.
	if code, _ := signUp(t, a, "ag", applicant("Anna", "anna@example.org")); code != http.StatusAccepted {
		t.Fatalf("sign-up by email: %d", code)
	}
}

func TestExistingRegistrationMailsTheAddressAtMostHourly(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	var shift atomic.Int64
	a.Registrations.SetClock(func() time.Time { return time.Now().Add(time.Duration(shift.Load())) })
	a.Event(t, a.Org(t, "miso"), "fest", nil)
	if code, _ := signUp(t, a, "fest", applicant("Vic", "victim@example.org")); code != http.StatusCreated {
		t.Fatalf("sign-up: %d", code)
	}
	var ans map[string]any
	for i := range 2 {
		if code := a.JSON(t, http.MethodPost, "/api/v1/events/fest/registrations", "", applicant("X", "VICTIM@example.org"), &ans); code != http.StatusOK || ans["existing"] != true {
			t.Fatalf("attempt %d: %d %v", i+1, code, ans)
		}
	}
	ms := mails(t, a, "registered_again")
	if len(ms) != 1 || ms[0].Recipient != "victim@example.org" || !strings.Contains(ms[0].Body, "/r/") {
		t.Fatalf("registered_again mails %+v, want one to victim@example.org with its link", ms)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 1 {
		t.Fatalf("%d registrations", n)
	}
	// An hour later the address is told again.
	shift.Store(int64(time.Hour + time.Minute))
	a.JSON(t, http.MethodPost, "/api/v1/events/fest/registrations", "", applicant("X", "victim@example.org"), &ans)
	if ms := mails(t, a, "registered_again"); len(ms) != 2 {
		t.Fatalf("%d registered_again mails after an hour, want 2", len(ms))
	}
}
