package registration_test

import (
	"net/http"
	"testing"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// On a members-only event with selection by approval the member list is
// checked when someone applies, as for every sign-up: a non-member gets
// nothing, a member's application holds no seat while pending, and
// following the confirmation link makes it an application (no seat, no
// ticket, an "application received" mail), not a place.
func TestMembersOnlyApplicationBecomesAppliedOnConfirmation(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	membersEvent(t, a, o, "ag", func(in *event.Input) { in.Capacity, in.Approval = event.Some(2), ptr(true) })
	if code, _ := signUp(t, a, "ag", applicant("Fremd", "fremd@example.org")); code != http.StatusAccepted {
		t.Fatalf("non-member: %d", code)
	}
	if code, _ := signUp(t, a, "ag", applicant("Anna", "anna@example.org")); code != http.StatusAccepted {
		t.Fatalf("member: %d", code)
	}
	if got := seatsTaken(t, a, "ag"); got != 0 {
		t.Fatalf("a pending application holds %d seats", got)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 1 {
		t.Fatalf("%d registrations, want Anna's only", n)
	}
	if code, _ := confirm(t, a, confirmLink(t, a, "anna@example.org")); code != http.StatusSeeOther {
		t.Fatalf("confirm: %d", code)
	}
	if n := a.Count(t, `SELECT count(*) FROM registrations WHERE status = 'applied' AND NOT address_unconfirmed`); n != 1 {
		t.Fatal("the confirmed member's registration is not an application")
	}
	if got, tickets := seatsTaken(t, a, "ag"), a.Count(t, `SELECT count(*) FROM tickets`); got != 0 || tickets != 0 {
		t.Fatalf("after confirming: %d seats, %d tickets", got, tickets)
	}
	if ms := mails(t, a, "applied"); len(ms) != 1 || ms[0].Recipient != "anna@example.org" {
		t.Fatalf("application mails %+v", ms)
	}
}
