package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

type approvalReg struct {
	ID               int64  `json:"id"`
	Status           string `json:"status"`
	WaitlistPosition *int   `json:"waitlist_position"`
	ManageURL        string `json:"manage_url"`
	Tickets          []struct {
		Code string `json:"code"`
	} `json:"tickets"`
}

// apply signs name up for the approval event slug through the API in
// lang and returns the application.
func apply(t *testing.T, a *testapp.App, slug, name, lang string, party int) approvalReg {
	t.Helper()
	var r approvalReg
	body := map[string]any{"name": name, "email": strings.ToLower(name) + "@example.org", "lang": lang, "party_size": party, "consent": true}
	if code := a.JSON(t, http.MethodPost, "/api/v1/events/"+slug+"/registrations", "", body, &r); code != http.StatusCreated {
		t.Fatalf("apply %s: %d", name, code)
	}
	return r
}

func regPath(slug string, id int64, action string) string {
	return fmt.Sprintf("/api/v1/orgs/miso/events/%s/registrations/%d/%s", slug, id, action)
}

// Issue 19: on an approval event a sign-up is an application (201
// "applied", no seat, no ticket, an "application received" mail in the
// applicant's language); approving confirms with tickets while places are
// free, then waitlists, and on an event without waitlist answers 409 with
// nothing changed. Door staff may not decide; every decision is audited.
func TestApprovalGivesPlacesOnlyWhenApproved(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.event(o.ID, "loccum", func(in *event.Input) {
		in.Capacity, in.Waitlist, in.Approval = event.Some(2), ptr(true), ptr(true)
	})
	organiser, door := a.token(o.ID, auth.Organiser), a.token(o.ID, auth.Door)

	var ev struct {
		Approval bool `json:"approval"`
	}
	if code := a.JSON(t, http.MethodGet, "/api/v1/events/loccum", "", nil, &ev); code != 200 || !ev.Approval {
		t.Fatalf("event: %d approval=%v", code, ev.Approval)
	}
	ann := apply(t, a.App, "loccum", "Ann", "en", 2)
	bob := apply(t, a.App, "loccum", "Bob", "tr", 1)
	cem := apply(t, a.App, "loccum", "Cem", "de", 1)
	if ann.Status != "applied" || len(ann.Tickets) != 0 || ann.ManageURL == "" {
		t.Fatalf("application: %+v", ann)
	}
	if n := a.count(`SELECT seats_confirmed FROM events WHERE slug = 'loccum'`); n != 0 {
		t.Fatalf("applications took %d seats", n)
	}
	if n := a.count(`SELECT count(*) FROM tickets`); n != 0 {
		t.Fatalf("applications have %d tickets", n)
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox WHERE kind = 'applied' AND lang = 'tr' AND recipient = 'bob@example.org'`); n != 1 {
		t.Fatalf("Bob's application mail in Turkish: %d", n)
	}
	// The same address again is answered as registered, not a second
	// application (one live registration per address).
	var again struct {
		Existing bool `json:"existing"`
	}
	if code := a.JSON(t, http.MethodPost, "/api/v1/events/loccum/registrations", "",
		map[string]any{"name": "Ann", "email": "ann@example.org", "party_size": 1, "consent": true}, &again); code != http.StatusOK || !again.Existing {
		t.Fatalf("Ann again: %d %+v", code, again)
	}
	if n := a.count(`SELECT count(*) FROM registrations`); n != 3 {
		t.Fatalf("%d registrations after Ann applied twice, want 3", n)
	}

	var r approvalReg
	if code := a.JSON(t, http.MethodPost, regPath("loccum", ann.ID, "approve"), door, nil, nil); code != http.StatusForbidden {
		t.Fatalf("door staff approve: %d", code)
	}
	if code := a.JSON(t, http.MethodPost, regPath("loccum", ann.ID, "approve"), organiser, nil, &r); code != 200 || r.Status != "confirmed" || len(r.Tickets) != 2 {
		t.Fatalf("approve Ann: %d %+v", code, r)
	}
	// A retry answers the same and changes nothing.
	if code := a.JSON(t, http.MethodPost, regPath("loccum", ann.ID, "approve"), organiser, nil, &r); code != 200 || r.Status != "confirmed" {
		t.Fatalf("approve Ann again: %d %+v", code, r)
	}
	if code := a.JSON(t, http.MethodPost, regPath("loccum", bob.ID, "approve"), organiser, nil, &r); code != 200 || r.Status != "waitlisted" || r.WaitlistPosition == nil || *r.WaitlistPosition != 1 {
		t.Fatalf("approve Bob on a full event with waitlist: %d %+v", code, r)
	}
	if n := a.count(`SELECT seats_confirmed FROM events WHERE slug = 'loccum'`); n != 2 {
		t.Fatalf("seats %d, want 2", n)
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox WHERE kind = 'confirmed' AND recipient = 'ann@example.org'`); n != 1 {
		t.Fatalf("Ann's tickets mailed %d times", n)
	}
	if n := a.count(`SELECT count(*) FROM mail_outbox WHERE kind = 'waitlisted' AND recipient = 'bob@example.org'`); n != 1 {
		t.Fatalf("Bob's waitlist mail: %d", n)
	}

	// Without a waitlist: 409 full, Cem stays an applicant.
	if _, err := a.Events.Update(t.Context(), o.ID, "loccum", event.Input{Waitlist: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	res := a.postJSON(http.MethodPost, regPath("loccum", cem.ID, "approve"), organiser, "")
	res.apiErr(t, http.StatusConflict, "full")
	if n := a.count(`SELECT count(*) FROM registrations WHERE id = $1 AND status = 'applied'`, cem.ID); n != 1 {
		t.Fatal("a refused approval changed Cem's application")
	}
	// A confirmed registration is not declined (cancelling takes places back).
	a.postJSON(http.MethodPost, regPath("loccum", ann.ID, "decline"), organiser, "").apiErr(t, http.StatusConflict, "conflict")
	if n := a.count(`SELECT count(*) FROM audit_log WHERE action = 'registration.approve'`); n != 3 {
		t.Fatalf("approvals audited: %d, want 3 (the refused one leaves none)", n)
	}

	// The list filters the applicants, with their answers.
	var list struct {
		Registrations []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"registrations"`
	}
	if code := a.JSON(t, http.MethodGet, "/api/v1/orgs/miso/events/loccum/registrations?status=applied", organiser, nil, &list); code != 200 ||
		len(list.Registrations) != 1 || list.Registrations[0].ID != cem.ID {
		t.Fatalf("applied list: %d %+v", code, list)
	}
	a.get("/api/v1/orgs/miso/events/loccum/registrations?status=nonsense", organiser).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	// A message to "applied" reaches the applicants.
	var sent struct {
		Recipients int `json:"recipients"`
	}
	if code := a.JSON(t, http.MethodPost, "/api/v1/orgs/miso/events/loccum/messages", organiser,
		msgBody(map[string]string{"de": "Auswahl"}, map[string]string{"de": "Bald entschieden."}, "applied"), &sent); code != http.StatusAccepted || sent.Recipients != 1 {
		t.Fatalf("message to the applicants: %d, %d recipients", code, sent.Recipients)
	}
}

// Age and members-only rules apply to applications as to sign-ups.
func TestApplicationsKeepTheAgeRule(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.event(o.ID, "jung", func(in *event.Input) {
		in.Approval, in.MinAge, in.MaxAge = ptr(true), event.Some(17), event.Some(27)
	})
	b := signup("alt@example.org")
	b["birth_date"] = "1950-01-01"
	a.postJSON(http.MethodPost, "/api/v1/events/jung/registrations", "", b).apiErr(t, http.StatusForbidden, "age")
	if n := a.count(`SELECT count(*) FROM registrations`); n != 0 {
		t.Fatalf("a refused application wrote %d rows", n)
	}
}

// Declining mails the applicant, with the reason in their language when
// given per language, or as typed when given as a plain string.
func TestDeclineMailsTheReasonInTheApplicantsLanguage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.event(o.ID, "loccum", func(in *event.Input) { in.Approval = ptr(true) })
	organiser := a.token(o.ID, auth.Organiser)
	ann := apply(t, a.App, "loccum", "Ann", "en", 1)
	bob := apply(t, a.App, "loccum", "Bob", "de", 1)

	a.postJSON(http.MethodPost, regPath("loccum", ann.ID, "decline"), organiser, `{"reason": {"xx": "?"}}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	a.postJSON(http.MethodPost, regPath("loccum", ann.ID, "decline"), organiser, `{"reason": 7}`).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	var r approvalReg
	if code := a.JSON(t, http.MethodPost, regPath("loccum", ann.ID, "decline"), organiser,
		map[string]any{"reason": map[string]string{"de": "Leider zu viele.", "en": "Sadly too many."}}, &r); code != 200 || r.Status != "declined" {
		t.Fatalf("decline Ann: %d %+v", code, r)
	}
	if code := a.JSON(t, http.MethodPost, regPath("loccum", bob.ID, "decline"), organiser, nil, &r); code != 200 || r.Status != "declined" {
		t.Fatalf("decline Bob without a body: %d %+v", code, r)
	}
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM mail_outbox WHERE kind = 'declined' AND recipient = 'ann@example.org'`); err != nil {
		t.Fatal(err)
	}
	m, err := a.Outbox.Render(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "Sadly too many.") || strings.Contains(m.Text, "Leider") || m.Lang != "en" {
		t.Fatalf("Ann's mail (%s):\n%s", m.Lang, m.Text)
	}
	if n := a.count(`SELECT count(*) FROM audit_log WHERE action = 'registration.decline'`); n != 2 {
		t.Fatalf("declines audited: %d", n)
	}
	// A declined application can no longer be changed; an open one can,
	// and stays an application without a seat.
	a.patch(strings.TrimPrefix(ann.ManageURL, a.URL+"/r/"), map[string]any{"party_size": 2}).apiErr(t, http.StatusConflict, "conflict")
	cem := apply(t, a.App, "loccum", "Cem", "de", 1)
	res := a.patch(strings.TrimPrefix(cem.ManageURL, a.URL+"/r/"), map[string]any{"party_size": 3})
	if res.Status != 200 || res.object(t)["status"] != "applied" || a.count(`SELECT seats_confirmed FROM events WHERE slug = 'loccum'`) != 0 {
		t.Fatalf("changing an application: %d %s", res.Status, res.Body)
	}
}

// A batch approves in the given order and stops at the first party that
// does not fit, saying which were approved; the rest stay applications.
func TestBatchApprovalStopsAtTheFirstThatDoesNotFit(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.event(o.ID, "loccum", func(in *event.Input) { in.Approval, in.Capacity, in.Waitlist = ptr(true), event.Some(3), ptr(true) })
	organiser := a.token(o.ID, auth.Organiser)
	ann := apply(t, a.App, "loccum", "Ann", "de", 1)
	bob := apply(t, a.App, "loccum", "Bob", "de", 2)
	cem := apply(t, a.App, "loccum", "Cem", "de", 1)
	dan := apply(t, a.App, "loccum", "Dan", "de", 1)
	var out struct {
		Approved  []approvalReg `json:"approved"`
		StoppedAt int64         `json:"stopped_at"`
		Skipped   []int64       `json:"skipped"`
		Error     *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	path := "/api/v1/orgs/miso/events/loccum/registrations/approve"
	if code := a.JSON(t, http.MethodPost, path, organiser, map[string]any{"ids": []int64{ann.ID, 999999}}, nil); code != http.StatusNotFound {
		t.Fatalf("unknown id: %d", code)
	}
	if code := a.JSON(t, http.MethodPost, path, organiser, map[string]any{"ids": []int64{}}, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("no ids: %d", code)
	}
	if n := a.count(`SELECT count(*) FROM registrations WHERE status = 'applied'`); n != 4 {
		t.Fatalf("a refused batch changed applications: %d left", n)
	}
	if code := a.JSON(t, http.MethodPost, path, organiser, map[string]any{"ids": []int64{bob.ID, ann.ID, cem.ID, dan.ID}}, &out); code != 200 {
		t.Fatalf("batch: %d", code)
	}
	if len(out.Approved) != 2 || out.Approved[0].ID != bob.ID || out.Approved[1].ID != ann.ID || out.StoppedAt != cem.ID ||
		out.Error == nil || out.Error.Code != "full" {
		t.Fatalf("batch answer: %+v", out)
	}
	if n := a.count(`SELECT count(*) FROM registrations WHERE status = 'applied' AND id = ANY(ARRAY[$1, $2]::bigint[])`, cem.ID, dan.ID); n != 2 {
		t.Fatalf("Cem and Dan should still be applicants: %d", n)
	}
	if n := a.count(`SELECT seats_confirmed FROM events WHERE slug = 'loccum'`); n != 3 {
		t.Fatalf("seats %d", n)
	}
	// Again: the approved are skipped, the first still too many stops it.
	if code := a.JSON(t, http.MethodPost, path, organiser, map[string]any{"ids": []int64{ann.ID, cem.ID}}, &out); code != 200 ||
		len(out.Approved) != 0 || len(out.Skipped) != 1 || out.StoppedAt != cem.ID {
		t.Fatalf("second batch: %d %+v", code, out)
	}
}

// Rule 8: 20 applicants, 5 places, no waitlist; two instances approve all
// of them at once, in opposite orders: exactly 5 are confirmed, with 5
// tickets, and every other answer is 409 full.
func TestApprovalsRacingOnTwoInstancesNeverOverfill(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.event(o.ID, "loccum", func(in *event.Input) { in.Approval, in.Capacity, in.Waitlist = ptr(true), event.Some(5), ptr(false) })
	organiser := a.token(o.ID, auth.Organiser)
	b := a.Second(t)
	var ids []int64
	for i := range 20 {
		ids = append(ids, apply(t, a.App, "loccum", fmt.Sprintf("P%02d", i), "de", 1).ID)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for k, inst := range []*testapp.App{a.App, b} {
		for i := range ids {
			id := ids[i]
			if k == 1 {
				id = ids[len(ids)-1-i]
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				code := inst.JSON(t, http.MethodPost, regPath("loccum", id, "approve"), organiser, nil, nil)
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	if codes[200]+codes[409] != 40 {
		t.Fatalf("answers: %v", codes)
	}
	if n := a.count(`SELECT count(*) FROM registrations WHERE status = 'confirmed'`); n != 5 {
		t.Fatalf("%d confirmed, want 5 (answers %v)", n, codes)
	}
	if n := a.count(`SELECT seats_confirmed FROM events WHERE slug = 'loccum'`); n != 5 {
		t.Fatalf("seats %d", n)
	}
	if n := a.count(`SELECT count(*) FROM tickets`); n != 5 {
		t.Fatalf("tickets %d", n)
	}
	if n := a.count(`SELECT count(*) FROM registrations WHERE status = 'applied'`); n != 15 {
		t.Fatalf("applications left %d", n)
	}
}
