package registration_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// No check-in, no certificate; once a ticket is checked in the certificate
// exists, shows the same code every time, and the table holds only the
// code's hash (a copy of the database alone verifies nothing).
func TestCertificateNeedsACheckInAndKeepsOnlyTheCodesHash(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "loccum", func(in *event.Input) { in.MaxPartySize = ptr(2) })
	r := a.Signed(t, "loccum", "Ayşe Nur Yılmaz", 2)
	ctx := context.Background()

	_, err := a.Registrations.CertificateByToken(ctx, r.ManageToken)
	if ae := apperr.From(err); ae.Code != apperr.NotFound || ae.Msg.ID != "cert.err.no_checkin" {
		t.Fatalf("without a check-in: %v, want NotFound cert.err.no_checkin", err)
	}
	if n := a.Count(t, `SELECT count(*) FROM certificates`); n != 0 {
		t.Fatalf("a refused certificate was stored: %d rows", n)
	}

	// The second seat of the party came; that is attendance.
	if _, err := a.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE registration_id = $1 AND seat = 2`, r.ID); err != nil {
		t.Fatal(err)
	}
	c, err := a.Registrations.CertificateByToken(ctx, r.ManageToken)
	if err != nil {
		t.Fatalf("after the check-in: %v", err)
	}
	if len(c.Code) != registration.CodeLength || strings.Trim(c.Code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Errorf("code %q: want %d characters of base32", c.Code, registration.CodeLength)
	}
	if c.Initials != "A. N. Y." || c.Registration.Name != "Ayşe Nur Yılmaz" {
		t.Errorf("initials %q, name %q", c.Initials, c.Registration.Name)
	}
	again, err := a.Registrations.CertificateByToken(ctx, r.ManageToken)
	if err != nil || again.Code != c.Code || !again.IssuedAt.Equal(c.IssuedAt) {
		t.Errorf("shown again: %+v %v, want the same code %s", again, err, c.Code)
	}
	if n := a.Count(t, `SELECT count(*) FROM certificates`); n != 1 {
		t.Errorf("certificates stored: %d, want 1", n)
	}
	sum := sha256.Sum256([]byte(c.Code))
	if n := a.Count(t, `SELECT count(*) FROM certificates WHERE code_hash = $1 AND event_id = $2`, sum[:], e.ID); n != 1 {
		t.Errorf("no certificate row holds the code's SHA-256")
	}
	if rows := traces(t, a, c.Code); len(rows) > 0 {
		t.Errorf("the database holds the verification code itself: %v", rows)
	}

	// Typed from paper: groups, lower case.
	grouped := strings.ToLower(c.Code[:4] + " " + c.Code[4:13] + "-" + c.Code[13:])
	v, err := a.Registrations.Verify(ctx, grouped)
	if err != nil || v.EventSlug != "loccum" || v.Initials != "A. N. Y." {
		t.Errorf("verify %q: %+v %v", grouped, v, err)
	}
	for _, bad := range []string{"", "ABC", strings.Repeat("A", registration.CodeLength), c.Code[1:] + "A", r.ManageToken, r.Tickets[0].Code} {
		if _, err := a.Registrations.Verify(ctx, bad); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("verify %q: %v, want NotFound", bad, err)
		}
	}
}

// The organisers' print issues a certificate for every registration with
// a check-in and none for the others, sorted by name.
func TestEventCertificatesAreThoseWhoCame(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "konferenz", nil)
	came := []*registration.Registration{signedAs(t, a, "konferenz", "Zeynep Kaya"), signedAs(t, a, "konferenz", "Борис Петров"), signedAs(t, a, "konferenz", "Anna Weiß")}
	signedAs(t, a, "konferenz", "Nicht Gekommen")
	for _, r := range came {
		if _, err := a.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE registration_id = $1`, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := a.Registrations.EventCertificates(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Registration.Name)
		if len(c.Code) != registration.CodeLength {
			t.Errorf("%s: code %q", c.Registration.Name, c.Code)
		}
	}
	if got := strings.Join(names, ", "); got != "Anna Weiß, Zeynep Kaya, Борис Петров" {
		t.Errorf("certificates for %s", got)
	}
	// The participant's own page shows the same code as the organisers' print.
	own, err := a.Registrations.CertificateByToken(context.Background(), came[0].ManageToken)
	if err != nil || own.Code != cs[1].Code {
		t.Errorf("own certificate %v %v, organisers printed %s", own, err, cs[1].Code)
	}
}

// After RETENTION_DAYS the certificate still verifies for its event, but
// the initials are gone with the name; a minute earlier they are still
// there.
func TestVerificationOutlivesTheRetentionErasureWithoutPersonalData(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	setNow := a.SettableClock()
	o := a.Org(t, "miso")
	e := a.Event(t, o, "loccum", nil)
	r := a.Signed(t, "loccum", "Leyla Demir", 1)
	if _, err := a.DB.Exec(`UPDATE tickets SET checked_in_at = now() WHERE registration_id = $1`, r.ID); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := a.Registrations.CertificateByToken(ctx, r.ManageToken)
	if err != nil {
		t.Fatal(err)
	}
	retention := 90 * 24 * time.Hour
	setNow(e.EndsAt.Add(retention - time.Minute))
	if n, err := a.Registrations.EraseExpired(ctx, retention, 100); err != nil || n.Registrations != 0 {
		t.Fatalf("a minute early: %+v %v", n, err)
	}
	if v, err := a.Registrations.Verify(ctx, c.Code); err != nil || v.Initials != "L. D." {
		t.Fatalf("before the erasure: %+v %v", v, err)
	}

	setNow(e.EndsAt.Add(retention + time.Minute))
	if n, err := a.Registrations.EraseExpired(ctx, retention, 100); err != nil || n.Registrations != 1 {
		t.Fatalf("erase: %+v %v", n, err)
	}
	v, err := a.Registrations.Verify(ctx, c.Code)
	if err != nil {
		t.Fatalf("after the erasure the certificate is no longer genuine: %v", err)
	}
	if v.EventSlug != "loccum" || v.EventID != e.ID || v.Initials != "" || !v.IssuedAt.Equal(c.IssuedAt) {
		t.Errorf("after the erasure: %+v, want the event, the issue date and no initials", v)
	}
	if rows := traces(t, a, "Leyla"); len(rows) > 0 {
		t.Errorf("the name survived the erasure: %v", rows)
	}
	// No new certificate from erased data: the page has nothing to print.
	if _, err := a.Registrations.CertificateByToken(ctx, r.ManageToken); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("certificate after the erasure: %v, want NotFound", err)
	}
}

// The hours a certificate states: the event's time, each day at most a
// working day.
func TestCertificateHours(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(d, h, m int) time.Time { return time.Date(2027, 1, d, h, m, 0, 0, berlin) }
	for _, c := range []struct {
		name       string
		start, end time.Time
		allDay     bool
		want       float64
	}{
		{"afternoon", at(19, 15, 0), at(19, 18, 0), false, 3},
		{"half hours", at(30, 16, 30), at(30, 18, 15), false, 2},
		{"festival day", at(1, 14, 0), at(1, 23, 0), false, 8},
		{"weekend seminar", at(22, 18, 0), at(24, 13, 0), false, 6 + 8 + 8},
		{"two whole days", at(25, 0, 0), at(26, 23, 59), true, 16},
		{"end before start", at(2, 18, 0), at(2, 17, 0), false, 0},
	} {
		e := &event.Event{StartsAt: c.start, EndsAt: c.end, AllDay: c.allDay, Timezone: "Europe/Berlin"}
		if got := registration.Hours(e); got != c.want {
			t.Errorf("%s: %v hours, want %v", c.name, got, c.want)
		}
	}
}

// The door list: confirmed parties only, by name in the Unicode collation
// (case and accents aside, each alphabet in its order), or by ticket code.
func TestDoorListSortsConfirmedPartiesByNameOrCode(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	e := a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(7) })
	for _, n := range []string{"Ölçer Ufuk", "zoë Berg", "Olga Berg", "Борис Петров", "Анна Каренина", "ليلى حسن", "Ali Çelik"} {
		signedAs(t, a, "fest", n)
	}
	if _, err := a.Registrations.SignUp(context.Background(), "fest", registration.SignupInput{Name: "Auf Warteliste", Email: "w@example.org", PartySize: 1, Lang: "de", Consent: true}); err != nil {
		t.Fatal(err)
	}
	rs, err := a.Registrations.DoorList(context.Background(), e.ID, registration.ByName)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	if got, want := strings.Join(names, ", "), "Ali Çelik, Ölçer Ufuk, Olga Berg, zoë Berg, Анна Каренина, Борис Петров, ليلى حسن"; got != want {
		t.Errorf("by name:\n got %s\nwant %s", got, want)
	}
	rs, err = a.Registrations.DoorList(context.Background(), e.ID, registration.ByCode)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i-1].Tickets[0].Code > rs[i].Tickets[0].Code {
			t.Errorf("by code: %s before %s", rs[i-1].Tickets[0].Code, rs[i].Tickets[0].Code)
		}
	}
	if len(rs) != 7 {
		t.Errorf("%d parties on the door list, want the 7 confirmed", len(rs))
	}
}

// signedAs signs name up for the event slug with an address of its own
// (names in any script) and fails unless the registration is confirmed.
func signedAs(t *testing.T, a *testapp.App, slug, name string) *registration.Registration {
	t.Helper()
	res, err := a.Registrations.SignUp(context.Background(), slug, registration.SignupInput{
		Name: name, Email: fmt.Sprintf("p%x@example.org", sha256.Sum256([]byte(name))), PartySize: 1, Lang: "de", Consent: true,
	})
	if err != nil || res.Registration.Status != registration.Confirmed {
		t.Fatalf("sign up %s: %+v %v", name, res, err)
	}
	return res.Registration
}
