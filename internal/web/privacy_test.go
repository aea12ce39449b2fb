package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/member"
	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testdb"
)

// Issue 16, findings 2 and 3, through the pages.

// perSession are the parts of a page that differ between browsers.
var perSession = regexp.MustCompile(`(name="csrf_token" value=|nonce=)"[^"]*"`)

// A member (by number, any typed address), a non-member and a member
// signed up before see the same page; the mails tell the difference.
func TestFormMemberAndNonMemberSeeTheSamePage(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	membersOnlyEvent(t, a)
	member := url.Values{"name": {"Bert"}, "email": {"typed@elsewhere.example"}, "member_number": {"M-2"}}
	stranger := url.Values{"name": {"Eve"}, "email": {"eve@example.org"}, "member_number": {"M-9"}}
	var codes []int
	var pages []string
	for _, f := range []url.Values{member, stranger, member} {
		resp, page := formSignup(t, a, "ag", f)
		codes = append(codes, resp.StatusCode)
		pages = append(pages, perSession.ReplaceAllString(page, ""))
	}
	if codes[0] != http.StatusAccepted || codes[1] != codes[0] || codes[2] != codes[0] {
		t.Fatalf("codes %v, want the same 202", codes)
	}
	if pages[1] != pages[0] || pages[2] != pages[0] {
		t.Fatal("the pages for a member, a non-member and a member again differ")
	}
	if strings.Contains(pages[0], "bert@listed.example") || strings.Contains(pages[0], "/r/") {
		t.Fatal("the page shows the listed address or a manage link")
	}
	mailBody(t, a, "confirm_email", "bert@listed.example")
	mailBody(t, a, "registered_again", "bert@listed.example")
	if body := mailBody(t, a, "not_a_member", "eve@example.org"); !strings.Contains(body, "info@miso.example") {
		t.Fatal("the non-member's mail does not say whom to ask")
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE recipient = 'typed@elsewhere.example'`); n != 0 {
		t.Fatal("a mail went to the address typed with a member's number")
	}
}

func TestFormMemberNumberAttemptsAreLimitedPerClientIP(t *testing.T) {
	t.Parallel()
	a := testapp.OnDBWith(t, testdb.New(t), func(c *config.Config) { c.MemberNumberRatePerIP = 2 })
	membersOnlyEvent(t, a)
	for i, n := range []string{"M-7", "M-8"} {
		if resp, _ := formSignup(t, a, "ag", url.Values{"name": {"G"}, "email": {"g@example.org"}, "member_number": {n}}); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, _ := formSignup(t, a, "ag", url.Values{"name": {"G"}, "email": {"g@example.org"}, "member_number": {"M-2"}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("3rd attempt: %d, want 429 with Retry-After", resp.StatusCode)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 0 {
		t.Fatal("the refused attempt was written")
	}
}

func TestAttendeeListAndExportsHideTheListedAddressUntilConfirmed(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := membersOnlyEventWith(t, a, nil)
	b := a.LoggedIn(t, a.Staff(t, o, "owner@miso.example", auth.Owner, false))
	formSignup(t, a, "ag", url.Values{"name": {"Bert"}, "email": {"typed@elsewhere.example"}, "member_number": {"M-2"}})
	get := func(path string) string {
		resp, err := b.Client.Get(a.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return string(body)
	}
	xlsx := func() string {
		f, err := excelize.OpenReader(bytes.NewReader([]byte(get("/admin/orgs/miso/events/ag/registrations.xlsx"))))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, _ := f.GetRows(f.GetSheetName(0))
		var out []string
		for _, r := range rows {
			out = append(out, strings.Join(r, ","))
		}
		return strings.Join(out, "\n")
	}
	page := get("/admin/orgs/miso/events/ag/registrations")
	if strings.Contains(page, "bert@listed.example") || !strings.Contains(page, "wartet auf Bestätigung") {
		t.Fatal("the attendee list shows the listed address before confirmation")
	}
	if strings.Contains(get("/admin/orgs/miso/events/ag/registrations?q=listed"), "Bert") {
		t.Fatal("searching by the hidden address finds the registration")
	}
	if csv := get("/admin/orgs/miso/events/ag/registrations.csv"); strings.Contains(csv, "bert@listed.example") {
		t.Fatal("the CSV export shows the listed address before confirmation")
	}
	if x := xlsx(); strings.Contains(x, "bert@listed.example") || !strings.Contains(x, "Bert") {
		t.Fatalf("the XLSX export before confirmation:\n%s", x)
	}
	if code, _ := confirmByForm(t, a, mailBody(t, a, "confirm_email", "bert@listed.example")); code != http.StatusSeeOther {
		t.Fatalf("confirm: %d", code)
	}
	if !strings.Contains(get("/admin/orgs/miso/events/ag/registrations"), "bert@listed.example") || !strings.Contains(xlsx(), "bert@listed.example") {
		t.Fatal("the confirmed address is not shown")
	}
}

// The partner organisation's owner answers on the partnerships page; the
// presenting organisation's editor shows the answer.
func TestPartnershipPageLetsThePartnersOwnerAccept(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	kargah := a.Org(t, "kargah")
	if _, err := a.Members.ImportJSON(context.Background(), kargah.ID, []member.Input{{Name: "Kira", Email: "kira@kargah.example"}}, member.Replace); err != nil {
		t.Fatal(err)
	}
	miso := membersOnlyEventWith(t, a, func(in *event.Input) { in.PartnerOrgs = &[]string{"kargah"} })
	editor := a.LoggedIn(t, a.Staff(t, miso, "owner@miso.example", auth.Owner, false))
	if _, page := editor.Get("/admin/orgs/miso/events/ag"); !strings.Contains(page, `id="partner-status"`) || !strings.Contains(page, "angefragt") {
		t.Fatal("the editor does not show the partner as requested")
	}
	formSignup(t, a, "ag", url.Values{"name": {"Kira"}, "email": {"kira@kargah.example"}})
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 0 {
		t.Fatal("a requested partner's member matched")
	}
	organiser := a.LoggedIn(t, a.Staff(t, kargah, "organiser@kargah.example", auth.Organiser, false))
	if resp, _ := organiser.Post("/admin", "/admin/orgs/kargah/partnerships/ag/accept", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("kargah's organiser accepts: %d, want 403", resp.StatusCode)
	}
	owner := a.LoggedIn(t, a.Staff(t, kargah, "owner@kargah.example", auth.Owner, false))
	code, page := owner.Get("/admin/orgs/kargah/partnerships")
	if code != http.StatusOK || !strings.Contains(page, `data-event="ag"`) || !strings.Contains(page, "MISO e. V.") {
		t.Fatalf("partnerships page: %d", code)
	}
	resp, _ := owner.Post("/admin/orgs/kargah/partnerships", "/admin/orgs/kargah/partnerships/ag/accept", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", resp.StatusCode)
	}
	if _, page := editor.Get("/admin/orgs/miso/events/ag"); !strings.Contains(page, "zugestimmt") {
		t.Fatal("the editor does not show the acceptance")
	}
	formSignup(t, a, "ag", url.Values{"name": {"Kira"}, "email": {"kira@kargah.example"}})
	mailBody(t, a, "confirm_email", "kira@kargah.example")
}

// Signing up again with a registered address says so on the page, and the
// address is told by mail, once within the hour.
func TestFormExistingRegistrationMailsTheAddress(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.Event(t, a.Org(t, "miso"), "fest", nil)
	if resp, _ := formSignup(t, a, "fest", url.Values{"name": {"Vic"}, "email": {"victim@example.org"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up: %d", resp.StatusCode)
	}
	for range 2 {
		if resp, page := formSignup(t, a, "fest", url.Values{"name": {"X"}, "email": {"Victim@Example.org"}}); resp.StatusCode != http.StatusOK || strings.Contains(page, "/r/") {
			t.Fatalf("again: %d", resp.StatusCode)
		}
	}
	if body := mailBody(t, a, "registered_again", "victim@example.org"); !strings.Contains(body, "/r/") {
		t.Fatal("the mail has no manage link")
	}
	if n := a.Count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'registered_again'`); n != 1 {
		t.Fatalf("%d registered_again mails within the hour, want 1", n)
	}
}
