package registration_test

import (
	"net/http"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
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

// An application takes no place in the workshops it chose either; the
// approval decides them as a confirmed sign-up's, and a decline gives the
// choice up.
func TestApprovalDecidesTheChosenSessions(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	one := 1
	e := a.Event(t, a.Org(t, "miso"), "fest", func(in *event.Input) {
		in.Capacity, in.Approval = event.Some(5), ptr(true)
		in.Sessions = &[]event.SessionInput{{Key: "ws", Title: event.Texts{"de": "Workshop"},
			StartsAt: &start, EndsAt: new(start.Add(time.Hour)), Capacity: &one}}
	})
	var first, second sessionAnswer
	for i, ans := range []*sessionAnswer{&first, &second} {
		body := person(i)
		body["sessions"] = []string{"ws"}
		if code := a.JSON(t, http.MethodPost, "/api/v1/events/fest/registrations", "", body, ans); code != http.StatusCreated || ans.Status != registration.Applied {
			t.Fatalf("application %d: %d %s", i, code, ans.Status)
		}
	}
	if got := a.Count(t, `SELECT seats_confirmed FROM event_sessions WHERE key = 'ws'`); got != 0 {
		t.Fatalf("applications took %d workshop places", got)
	}
	if _, err := a.Registrations.Decline(t.Context(), e.ID, first.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Registrations.Approve(t.Context(), e.ID, second.ID); err != nil {
		t.Fatal(err)
	}
	r, err := a.Registrations.ByToken(t.Context(), token(second.ManageURL))
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != registration.Confirmed || len(r.Sessions) != 1 || r.Sessions[0].Status != registration.SessionConfirmed {
		t.Fatalf("approved: %s %+v", r.Status, r.Sessions)
	}
	if got := a.Count(t, `SELECT seats_confirmed FROM event_sessions WHERE key = 'ws'`); got != 1 {
		t.Fatalf("workshop places taken %d, want 1", got)
	}
}
