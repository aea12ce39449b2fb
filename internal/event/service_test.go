package event_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/org"
	"treffpunkt/internal/testdb"
)

// setup gives a service on a fresh database and the id of one organisation.
func setup(t *testing.T) (*event.Service, int64, *sqlx.DB) {
	t.Helper()
	db := testdb.New(t)
	return event.New(event.Options{DB: db}), addOrg(t, db, "kulturverein"), db
}

func addOrg(t *testing.T, db *sqlx.DB, slug string) int64 {
	t.Helper()
	o, err := org.New(db).Create(context.Background(), org.Org{Slug: slug, Name: "Org " + slug, Email: slug + "@example.org"})
	if err != nil {
		t.Fatalf("org %s: %v", slug, err)
	}
	return o.ID
}

func ptr[T any](v T) *T { return &v }

// valid is the least input Create accepts.
func valid(slug string) event.Input {
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Minute)
	return event.Input{
		Slug:     ptr(slug),
		Title:    event.Texts{"de": "Sommerfest"},
		StartsAt: ptr(start),
		EndsAt:   ptr(start.Add(3 * time.Hour)),
	}
}

// fieldErr fails unless err is a validation error naming field with msgID.
func fieldErr(t *testing.T, err error, field, msgID string) {
	t.Helper()
	ae := apperr.From(err)
	if ae.Code != apperr.Invalid {
		t.Fatalf("error %v: want code %s", err, apperr.Invalid)
	}
	if got := ae.Fields[field].ID; got != msgID {
		t.Fatalf("error %v: field %s has %q, want %q", err, field, got, msgID)
	}
}

func count(t *testing.T, db *sqlx.DB) int {
	t.Helper()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM events`); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateFillsDefaultsForAbsentFields(t *testing.T) {
	t.Parallel()
	s, orgID, _ := setup(t)
	e, err := s.Create(context.Background(), orgID, valid("fest"))
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != event.Draft || e.Kind != "other" || e.DefaultLang != "de" || e.Timezone != "Europe/Berlin" ||
		!e.Waitlist || e.MaxPartySize != 1 || e.Access != event.AccessPublic || e.Capacity != nil {
		t.Fatalf("defaults: status %q kind %q lang %q tz %q waitlist %v party %d access %q capacity %v",
			e.Status, e.Kind, e.DefaultLang, e.Timezone, e.Waitlist, e.MaxPartySize, e.Access, e.Capacity)
	}
	if e.OrgID != orgID || e.Slug != "fest" || e.Title["de"] != "Sommerfest" {
		t.Fatalf("stored %+v", e)
	}
}

func TestCreateRejectsEveryBadFieldAndWritesNothing(t *testing.T) {
	t.Parallel()
	s, orgID, db := setup(t)
	in := valid("Nicht Gültig")
	in.Kind = ptr("rave")
	in.DefaultLang = ptr("xx")
	in.EndsAt = ptr(in.StartsAt.Add(-time.Hour))
	in.Timezone = ptr("Mars/Olympus")
	in.Capacity = event.Some(-1)
	in.MaxPartySize = ptr(51)
	in.Access = ptr("friends")
	in.MinAge, in.MaxAge = event.Some(30), event.Some(18)
	_, err := s.Create(context.Background(), orgID, in)
	want := map[string]string{
		"slug": "err.slug", "kind": "err.choice", "default_lang": "err.lang", "ends_at": "err.ends_before_start",
		"timezone": "err.timezone", "capacity": "err.range", "max_party_size": "err.range",
		"access": "err.choice", "max_age": "err.age_range",
	}
	for field, id := range want {
		fieldErr(t, err, field, id)
	}
	if n := count(t, db); n != 0 {
		t.Fatalf("%d events written", n)
	}
}

func TestCreateNeedsATitleInTheDefaultLanguage(t *testing.T) {
	t.Parallel()
	s, orgID, _ := setup(t)
	in := valid("fest")
	in.Title = event.Texts{"en": "Summer party"}
	_, err := s.Create(context.Background(), orgID, in)
	fieldErr(t, err, "title", "err.title_default_lang")
}

func TestCreateRefusesAnEventThatIsAlreadyCancelled(t *testing.T) {
	t.Parallel()
	s, orgID, db := setup(t)
	in := valid("fest")
	in.Status = ptr(event.Cancelled)
	_, err := s.Create(context.Background(), orgID, in)
	fieldErr(t, err, "status", "err.create_cancelled")
	if n := count(t, db); n != 0 {
		t.Fatalf("%d events written", n)
	}
}

func TestCreateRefusesATakenSlug(t *testing.T) {
	t.Parallel()
	s, orgID, db := setup(t)
	if _, err := s.Create(context.Background(), orgID, valid("fest")); err != nil {
		t.Fatal(err)
	}
	other := addOrg(t, db, "sportverein")
	_, err := s.Create(context.Background(), other, valid("fest"))
	fieldErr(t, err, "slug", "err.slug_taken")
}

func TestDraftsAreHiddenFromThePublicUntilPublished(t *testing.T) {
	t.Parallel()
	s, orgID, _ := setup(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, orgID, valid("fest")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPublic(ctx, "fest"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("draft for the public: %v, want not found", err)
	}
	e, err := s.Update(ctx, orgID, "fest", event.Input{Status: ptr(event.Published)})
	if err != nil || e.Status != event.Published {
		t.Fatalf("publish: %v, %+v", err, e)
	}
	if _, err := s.GetPublic(ctx, "fest"); err != nil {
		t.Fatalf("published event for the public: %v", err)
	}
}

func TestUpdateChangesOnlyTheFieldsGivenAndClearsCapacityWithNull(t *testing.T) {
	t.Parallel()
	s, orgID, _ := setup(t)
	ctx := context.Background()
	in := valid("fest")
	in.Capacity = event.Some(40)
	in.PriceNote = ptr("5 €")
	if _, err := s.Create(ctx, orgID, in); err != nil {
		t.Fatal(err)
	}
	e, err := s.Update(ctx, orgID, "fest", event.Input{MaxPartySize: ptr(4)})
	if err != nil {
		t.Fatal(err)
	}
	if e.MaxPartySize != 4 || e.Capacity == nil || *e.Capacity != 40 || e.PriceNote != "5 €" || e.Title["de"] != "Sommerfest" {
		t.Fatalf("after a one-field update: party %d capacity %v price %q title %v", e.MaxPartySize, e.Capacity, e.PriceNote, e.Title)
	}
	e, err = s.Update(ctx, orgID, "fest", event.Input{Capacity: event.Null[int]{Set: true}})
	if err != nil || e.Capacity != nil {
		t.Fatalf("capacity null: %v, capacity %v; want unlimited", err, e.Capacity)
	}
}

func TestUpdateValidatesTheWholeEventAndWritesNothingOnError(t *testing.T) {
	t.Parallel()
	s, orgID, _ := setup(t)
	ctx := context.Background()
	before, err := s.Create(ctx, orgID, valid("fest"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Update(ctx, orgID, "fest", event.Input{EndsAt: ptr(before.StartsAt.Add(-time.Minute)), MaxPartySize: ptr(3)})
	fieldErr(t, err, "ends_at", "err.ends_before_start")
	after, err := s.Get(ctx, "fest")
	if err != nil {
		t.Fatal(err)
	}
	if !after.EndsAt.Equal(before.EndsAt) || after.MaxPartySize != 1 {
		t.Fatalf("a refused update wrote: ends %v party %d", after.EndsAt, after.MaxPartySize)
	}
}

func TestAnotherOrganisationCannotSeeUpdateOrCancelTheEvent(t *testing.T) {
	t.Parallel()
	s, orgID, db := setup(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, orgID, valid("fest")); err != nil {
		t.Fatal(err)
	}
	other := addOrg(t, db, "sportverein")
	if _, err := s.GetForOrg(ctx, other, "fest"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("get: %v, want not found", err)
	}
	if _, err := s.Update(ctx, other, "fest", event.Input{MaxPartySize: ptr(2)}); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("update: %v, want not found", err)
	}
	if _, err := s.Cancel(ctx, other, "fest"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("cancel: %v, want not found", err)
	}
	if e, _ := s.Get(ctx, "fest"); e.Status != event.Draft || e.MaxPartySize != 1 {
		t.Fatalf("the other organisation changed it: %+v", e)
	}
}

func TestCancelIsOnlyThroughCancelAndIsFinal(t *testing.T) {
	t.Parallel()
	s, orgID, _ := setup(t)
	ctx := context.Background()
	in := valid("fest")
	in.Status = ptr(event.Published)
	created, err := s.Create(ctx, orgID, in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Update(ctx, orgID, "fest", event.Input{Status: ptr(event.Cancelled)})
	fieldErr(t, err, "status", "err.use_cancel")

	e, err := s.Cancel(ctx, orgID, "fest")
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != event.Cancelled || e.CancelledAt == nil || e.Sequence != created.Sequence+1 {
		t.Fatalf("cancelled: status %q cancelled_at %v sequence %d (was %d)", e.Status, e.CancelledAt, e.Sequence, created.Sequence)
	}
	if _, err := s.GetPublic(ctx, "fest"); err != nil {
		t.Fatalf("a cancelled event stays visible: %v", err)
	}
	_, err = s.Update(ctx, orgID, "fest", event.Input{Status: ptr(event.Published)})
	if ae := apperr.From(err); ae.Code != apperr.Conflict || ae.Msg.ID != "err.event_cancelled_final" {
		t.Fatalf("editing a cancelled event: %v, want conflict err.event_cancelled_final", err)
	}
	again, err := s.Cancel(ctx, orgID, "fest")
	if err != nil || again.Sequence != e.Sequence {
		t.Fatalf("cancelling twice: %v, sequence %d (was %d); want no change", err, again.Sequence, e.Sequence)
	}
}

func TestMovingTheEventRaisesItsCalendarSequence(t *testing.T) {
	t.Parallel()
	s, orgID, _ := setup(t)
	ctx := context.Background()
	created, err := s.Create(ctx, orgID, valid("fest"))
	if err != nil {
		t.Fatal(err)
	}
	same, err := s.Update(ctx, orgID, "fest", event.Input{MaxPartySize: ptr(2)})
	if err != nil || same.Sequence != created.Sequence {
		t.Fatalf("party size change: %v, sequence %d (was %d); want unchanged", err, same.Sequence, created.Sequence)
	}
	moved, err := s.Update(ctx, orgID, "fest", event.Input{StartsAt: ptr(created.StartsAt.Add(time.Hour)), EndsAt: ptr(created.EndsAt.Add(time.Hour))})
	if err != nil || moved.Sequence != created.Sequence+1 {
		t.Fatalf("moved: %v, sequence %d (was %d); want one more", err, moved.Sequence, created.Sequence)
	}
}

func TestPartnersAreStoredByNameAndCanBeRemoved(t *testing.T) {
	t.Parallel()
	s, orgID, db := setup(t)
	ctx := context.Background()
	addOrg(t, db, "jugendhaus")
	addOrg(t, db, "bibliothek")
	in := valid("fest")
	in.PartnerOrgs = &[]string{" Jugendhaus ", "bibliothek"}
	e, err := s.Create(ctx, orgID, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Partners.Slugs(); len(got) != 2 || got[0] != "jugendhaus" || got[1] != "bibliothek" {
		t.Fatalf("partners %v, want [jugendhaus bibliothek] in order", got)
	}
	if e.Partners.Names() == "" {
		t.Fatal("partners without names")
	}
	e, err = s.Update(ctx, orgID, "fest", event.Input{MaxPartySize: ptr(2)})
	if err != nil || len(e.Partners) != 2 {
		t.Fatalf("an update without partner_orgs: %v, partners %v; want them kept", err, e.Partners.Slugs())
	}
	e, err = s.Update(ctx, orgID, "fest", event.Input{PartnerOrgs: &[]string{}})
	if err != nil || len(e.Partners) != 0 {
		t.Fatalf("partner_orgs []: %v, partners %v; want none", err, e.Partners.Slugs())
	}
}

func TestPartnersMustExistDifferFromThePresenterAndNotRepeat(t *testing.T) {
	t.Parallel()
	s, orgID, db := setup(t)
	addOrg(t, db, "jugendhaus")
	for _, c := range []struct {
		name     string
		partners []string
		msgID    string
	}{
		{"unknown", []string{"gibtsnicht"}, "err.partner_org_unknown"},
		{"self", []string{"kulturverein"}, "err.partner_org_self"},
		{"twice", []string{"jugendhaus", "jugendhaus"}, "err.partner_org_twice"},
	} {
		in := valid("fest-" + c.name)
		in.PartnerOrgs = &c.partners
		_, err := s.Create(context.Background(), orgID, in)
		fieldErr(t, err, "partner_orgs", c.msgID)
	}
	if n := count(t, db); n != 0 {
		t.Fatalf("%d events written", n)
	}
}
