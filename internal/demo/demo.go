// Package demo loads the reference network's organisations and program
// (DESIGN.md), placed in the coming weeks so that the demo always shows
// upcoming events, plus a demo organiser login.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/member"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
)

// Services are what the demo writes through, so demo data obeys every rule.
type Services struct {
	Orgs          *org.Service
	Events        *event.Service
	Registrations *registration.Service
	Auth          *auth.Service
	// Members loads the demo member lists; nil loads none.
	Members *member.Service
}

// Demo logins, printed after loading.
const (
	OrganiserEmail = "organiser@miso.example"
	Password       = "treffpunkt-demo"
	DoorEmail      = "door@miso.example"
	// MemberEmail and MemberNumber are a member on MiSO's demo list, for
	// the members-only demo event.
	MemberEmail  = "mitglied@miso.example"
	MemberNumber = "MISO-0001"
)

// members are the demo member lists: MiSO's, and kargah's (partner of the
// members-only demo event).
var members = map[string][]member.Input{
	"miso": {
		{Name: "Mitglied Demo", Email: MemberEmail, MemberNumber: MemberNumber},
		{Name: "Aylin Demir", Email: "aylin@miso.example", MemberNumber: "MISO-0002"},
		{Name: "Samir Haddad", Email: "samir@miso.example", MemberNumber: "MISO-0003", ValidUntil: "2020-12-31"},
	},
	"kargah": {
		{Name: "Parisa Ahmadi", Email: "parisa@kargah.example", MemberNumber: "K-17"},
	},
}

var orgs = []org.Org{
	{Slug: "miso", Name: "MiSO e. V.", Email: "info@miso.example", Address: "Hannover"},
	{Slug: "ezidische-akademie", Name: "Ezidische Akademie e. V.", Email: "info@ezidische-akademie.example", Address: "Schulenburger Landstr. 150, 30165 Hannover"},
	{Slug: "kargah", Name: "kargah e. V.", Email: "info@kargah.example", Address: "Zur Bettfedernfabrik 1, 30451 Hannover"},
	{Slug: "faust", Name: "FAUST e. V.", Email: "info@faust.example", Address: "Zur Bettfedernfabrik 3, 30451 Hannover"},
}

// Load fills an empty database and does nothing to one that already has
// organisations; either way it prints the demo logins.
func Load(ctx context.Context, s Services, out io.Writer, baseURL string, now time.Time) error {
	existing, err := s.Orgs.List(ctx)
	if err != nil {
		return err
	}
	if len(existing) == 0 {
		if err := load(ctx, s, now); err != nil {
			return err
		}
		fmt.Fprintln(out, "demo data loaded")
	} else {
		fmt.Fprintln(out, "database already has data; demo not loaded again")
	}
	fmt.Fprintf(out, "open %s\ndemo organiser login: %s / %s (organisation miso)\ndemo door login: %s / %s\n",
		baseURL, OrganiserEmail, Password, DoorEmail, Password)
	fmt.Fprintf(out, "demo member for the members-only event ag-partizipation: %s or member number %s\n", MemberEmail, MemberNumber)
	return nil
}

func load(ctx context.Context, s Services, now time.Time) error {
	ids := map[string]int64{}
	for _, o := range orgs {
		created, err := s.Orgs.Create(ctx, o)
		if err != nil {
			return fmt.Errorf("demo organisation %s: %w", o.Slug, err)
		}
		ids[o.Slug] = created.ID
	}
	if err := s.Auth.AddUser(ctx, OrganiserEmail, Password, ids["miso"], auth.Organiser, false); err != nil {
		return fmt.Errorf("demo organiser: %w", err)
	}
	if err := s.Auth.AddUser(ctx, DoorEmail, Password, ids["miso"], auth.Door, false); err != nil {
		return fmt.Errorf("demo door staff: %w", err)
	}
	if s.Members != nil {
		for slug, list := range members {
			if _, err := s.Members.ImportJSON(ctx, ids[slug], list, member.Replace); err != nil {
				return fmt.Errorf("demo members of %s: %w", slug, apperr.From(err))
			}
		}
	}
	drawn := map[string][]byte{}
	quiz := quizSeries(now)
	series, err := s.Events.CreateSeries(ctx, ids["faust"], quiz)
	if err != nil {
		return fmt.Errorf("demo series %s: %w", quiz.Slug, apperr.From(err))
	}
	for _, d := range series.Dates {
		if err := addPictureAs(ctx, s, drawn, ids["faust"], d.Slug, quiz.Slug); err != nil {
			return err
		}
	}
	for _, d := range program(now) {
		if _, err := s.Events.Create(ctx, ids[d.org], d.in); err != nil {
			return fmt.Errorf("demo event %s: %w", *d.in.Slug, apperr.From(err))
		}
		if err := addPicture(ctx, s, drawn, ids[d.org], *d.in.Slug); err != nil {
			return err
		}
		if d.in.PartnerOrgs == nil {
			continue
		}
		// In the demo the partners have said yes, as their owners would on
		// their partnerships page (docs/access.md).
		for _, p := range *d.in.PartnerOrgs {
			if _, err := s.Events.DecidePartnership(ctx, ids[p], *d.in.Slug, true, 0); err != nil {
				return fmt.Errorf("demo partnership %s/%s: %w", *d.in.Slug, p, apperr.From(err))
			}
		}
	}
	return nil
}

// quizSeries is FAUST's quiz night: every other Thursday at 20:00, three
// dates from the second week on (docs/organisers.md), each an event
// hirnschmalz-battle-YYYY-MM-DD with its own places.
func quizSeries(now time.Time) event.SeriesInput {
	berlin := event.Zone(event.DefaultTimezone)
	today := now.In(berlin)
	first := time.Date(today.Year(), today.Month(), today.Day(), 20, 0, 0, 0, berlin).AddDate(0, 0, 14)
	for first.Weekday() != time.Thursday {
		first = first.AddDate(0, 0, 1)
	}
	return event.SeriesInput{
		Slug: "hirnschmalz-battle",
		Template: json.RawMessage(`{"kind": "other", "status": "published",
 "title": {"de": "Hirnschmalz-Battle", "en": "Brain Battle quiz night", "ar": "معركة العقول: أمسية مسابقات"},
 "description": {"de": "Quizabend in Teams bis vier Personen. Eintritt frei – einfach hier anmelden statt per E-Mail.", "en": "Quiz night for teams of up to four. Free – sign up here instead of by email."},
 "venue": {"name": "FAUST e. V.", "street": "Zur Bettfedernfabrik 3", "postcode": "30451", "city": "Hannover"},
 "capacity": 40, "waitlist": true, "max_party_size": 4}`),
		RRule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;COUNT=3",
		First: &event.Span{StartsAt: first, EndsAt: first.Add(3 * time.Hour)},
	}
}

type demoEvent struct {
	org string
	in  event.Input
}

func program(now time.Time) []demoEvent {
	berlin := event.Zone(event.DefaultTimezone)
	today := now.In(berlin)
	day := func(weeks int, wd time.Weekday, hour, minute int) time.Time {
		d := time.Date(today.Year(), today.Month(), today.Day(), hour, minute, 0, 0, berlin).AddDate(0, 0, 7*weeks)
		for d.Weekday() != wd {
			d = d.AddDate(0, 0, 1)
		}
		return d
	}
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	yes, no := true, false
	pub := str(event.Published)
	at := func(t time.Time) *time.Time { return &t }

	konferenz := day(3, time.Friday, 9, 30)
	empfang := day(1, time.Saturday, 15, 0)
	loccum := day(4, time.Friday, 17, 0)
	ag := day(2, time.Tuesday, 16, 30)
	fest := day(6, time.Saturday, 14, 0)

	return []demoEvent{
		{"miso", event.Input{
			Slug: str("migrationskonferenz"), Kind: str("conference"), Status: pub,
			Title: event.Texts{"de": "Migrationskonferenz", "en": "Migration Conference", "tr": "Göç Konferansı"},
			Description: event.Texts{
				"de": "Die jährliche Konferenz des Netzwerks: Vorträge, Workshops und Austausch über Teilhabe in Hannover.\n\nMit Mittagessen und Kinderbetreuung.",
				"en": "The network's annual conference: talks, workshops and exchange about participation in Hannover.\n\nLunch and childcare provided.",
			},
			StartsAt: at(konferenz), EndsAt: at(konferenz.Add(8 * time.Hour)),
			Venue: &event.Venue{Name: "Freizeitheim Vahrenwald, großer Saal", Street: "Vahrenwalder Str. 92", Postcode: "30165", City: "Hannover", AccessibilityNotes: "Stufenloser Zugang, barrierefreies WC.",
				VenueFacts: event.VenueFacts{StepFree: &yes, AccessibleToilet: &yes, HearingLoop: &no}},
			Capacity: event.Some(160), Waitlist: &yes, MaxPartySize: num(2),
			// The conference ends in workshops (issue 18): two in parallel
			// after lunch, one after them; "Fördermittel" has four places,
			// so that a tester fills it and sees its waitlist.
			MaxSessions: event.Some(2),
			Sessions: &[]event.SessionInput{
				{Key: "teilhabe", Title: event.Texts{"de": "Workshop: Teilhabe in Vereinen", "en": "Workshop: participation in associations", "tr": "Atölye: derneklerde katılım"},
					Description: event.Texts{"de": "Wie Migrant*innenorganisationen in Beiräten und Gremien mitreden.", "en": "How migrant organisations get a say in councils and committees."},
					StartsAt:    at(konferenz.Add(4*time.Hour + 30*time.Minute)), EndsAt: at(konferenz.Add(6 * time.Hour)),
					Room: "Raum 1", Capacity: num(30)},
				{Key: "mehrsprachig", Title: event.Texts{"de": "Workshop: Mehrsprachige Öffentlichkeitsarbeit", "en": "Workshop: reaching people in many languages", "tr": "Atölye: çok dilli halkla ilişkiler"},
					StartsAt: at(konferenz.Add(4*time.Hour + 30*time.Minute)), EndsAt: at(konferenz.Add(6 * time.Hour)),
					Room: "Raum 2", Capacity: num(20)},
				{Key: "foerdermittel", Title: event.Texts{"de": "Workshop: Fördermittel beantragen", "en": "Workshop: applying for funding", "tr": "Atölye: hibe başvurusu"},
					StartsAt: at(konferenz.Add(6*time.Hour + 15*time.Minute)), EndsAt: at(konferenz.Add(7*time.Hour + 45*time.Minute)),
					Room: "Raum 3", Capacity: num(4)},
			},
			FactsInput: event.FactsInput{Languages: &[]string{"de", "en", "tr"}, Interpreting: &[]string{"ar", "fa"}, Childcare: &yes},
			Questions: &event.Questions{
				{Key: "diet", Type: event.QSingleChoice, Label: event.Texts{"de": "Mittagessen", "en": "Lunch", "tr": "Öğle yemeği"},
					Options: []event.Option{
						{Value: "vegetarian", Label: event.Texts{"de": "Vegetarisch", "en": "Vegetarian", "tr": "Vejetaryen"}},
						{Value: "vegan", Label: event.Texts{"de": "Vegan", "en": "Vegan", "tr": "Vegan"}},
						{Value: "halal", Label: event.Texts{"de": "Halal", "en": "Halal", "tr": "Helal"}},
						{Value: "none", Label: event.Texts{"de": "Kein Mittagessen", "en": "No lunch", "tr": "Öğle yemeği yok"}},
					}},
				{Key: "needs", Type: event.QMultipleChoice, Door: true, Label: event.Texts{"de": "Wir brauchen", "en": "We need", "tr": "İhtiyacımız"},
					Options: []event.Option{
						{Value: "childcare", Label: event.Texts{"de": "Kinderbetreuung", "en": "Childcare", "tr": "Çocuk bakımı"}},
						{Value: "interpreting", Label: event.Texts{"de": "Dolmetschen", "en": "Interpreting", "tr": "Tercüme"}},
						{Value: "wheelchair", Label: event.Texts{"de": "Rollstuhlplatz", "en": "Wheelchair space", "tr": "Tekerlekli sandalye yeri"}},
					}},
			},
		}},
		{"ezidische-akademie", event.Input{
			Slug: str("neujahrsempfang"), Kind: str("meeting"), Status: pub,
			Title:       event.Texts{"de": "Neujahrsempfang", "en": "New Year's reception"},
			Description: event.Texts{"de": "Empfang zum neuen Jahr. Eintritt frei.", "en": "New Year's reception. Free entry."},
			StartsAt:    at(empfang), EndsAt: at(empfang.Add(3 * time.Hour)),
			Venue:    &event.Venue{Name: "Ezidische Akademie", Street: "Schulenburger Landstr. 150", Postcode: "30165", City: "Hannover"},
			Capacity: event.Null[int]{Set: true}, MaxPartySize: num(5),
		}},
		{"miso", event.Input{
			Slug: str("wochenende-in-loccum"), Kind: str("seminar"), Status: pub,
			Title:       event.Texts{"de": "Wochenende in Loccum", "en": "Weekend in Loccum", "ar": "عطلة نهاية الأسبوع في لوكوم", "fa": "آخر هفته در لوکوم"},
			Description: event.Texts{"de": "Wochenendseminar mit jungen Geflüchteten von 17 bis 27 Jahren. Kostenlos, Anmeldung erforderlich.", "en": "Weekend seminar with young refugees aged 17 to 27. Free, registration required."},
			StartsAt:    at(loccum), EndsAt: at(loccum.AddDate(0, 0, 2).Add(-4 * time.Hour)),
			Venue:    &event.Venue{Name: "Ev. Akademie Loccum", Street: "Münchehäger Str. 6", Postcode: "31547", City: "Rehburg-Loccum"},
			Capacity: event.Some(25), Waitlist: &yes, MinAge: event.Some(17), MaxAge: event.Some(27),
		}},
		{"miso", event.Input{
			Slug: str("ag-partizipation"), Kind: str("meeting"), Status: pub,
			Title:       event.Texts{"de": "AG Partizipation", "en": "Working group on participation"},
			Description: event.Texts{"de": "Treffen der Arbeitsgruppe. Nur für MiSO-Mitglieder."},
			StartsAt:    at(ag), EndsAt: at(ag.Add(2 * time.Hour)),
			Venue:    &event.Venue{Name: "kargah", Street: "Zur Bettfedernfabrik 1", Postcode: "30451", City: "Hannover"},
			Capacity: event.Some(20), Access: str(event.AccessMembers), PartnerOrgs: &[]string{"kargah"},
		}},
		{"miso", event.Input{
			Slug: str("internationales-1-mai-fest"), Kind: str("festival"), Status: pub,
			Title:       event.Texts{"de": "Internationales 1. Mai-Fest", "en": "International May Day festival", "tr": "Uluslararası 1 Mayıs Şenliği", "ru": "Международный праздник 1 мая"},
			Description: event.Texts{"de": "Fest mit Musik, Essen und Ständen der Vereine. Eintritt frei.", "en": "Festival with music, food and stalls of the member organisations. Free entry."},
			StartsAt:    at(fest), EndsAt: at(fest.Add(8 * time.Hour)),
			Venue: &event.Venue{Name: "Kulturzentrum Faust", Street: "Zur Bettfedernfabrik 3", Postcode: "30451", City: "Hannover",
				VenueFacts: event.VenueFacts{StepFree: &yes, Lat: new(52.3746), Lon: new(9.7127)}},
			Capacity: event.Null[int]{Set: true}, Waitlist: &no, MaxPartySize: num(10),
			FactsInput: event.FactsInput{Languages: &[]string{"de", "tr", "ku", "ar"}},
		}},
	}
}
