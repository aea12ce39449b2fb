package web

import (
	"strings"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
)

// eventView is an event as a page shows it, in the reader's language.
type eventView struct {
	Slug            string
	OrgSlug         string
	OrgName         string
	Title           string
	TitleLang       string // set when the title is not in the reader's language
	Description     []string
	DescriptionLang string
	KindLabel       string
	When            string
	Venue           event.Venue
	City            string
	PriceNote       string
	Cancelled       bool
	Open            bool
	Full            bool
	StateClass      string
	StateLabel      string
	WaitlistLabel   string
	MaxPartySize    int
	AgeRule         bool
	MembersOnly     bool
	// Approval: places are given by selection, so the form applies.
	Approval bool
	Notes    []string
	// MemberHint explains where the confirmation link goes on a
	// members-only event's form.
	MemberHint string
	// MaxSessions limits the sessions one may choose; 0 is no limit.
	MaxSessions int
	// Image is the event's picture (image.go), nil without one.
	Image *imageView
	// Facts, Spoken and Where: accessibility, languages spoken, map
	// links (access.go).
	Facts  []factView
	Spoken []string
	Where  *whereView

	src *event.Event // for "add to calendar" links
}

func newEventView(l *i18n.Localizer, e *event.Event, now time.Time) eventView {
	v := eventView{
		Slug: e.Slug, OrgSlug: e.OrgSlug, OrgName: e.OrgName,
		KindLabel: l.T("kind."+e.Kind, nil), Venue: e.Venue, City: e.Venue.City,
		PriceNote: e.PriceNote, Cancelled: e.Status == event.Cancelled,
		MaxPartySize: e.MaxPartySize, AgeRule: e.MinAge != nil || e.MaxAge != nil,
		MembersOnly: e.Access == event.AccessMembers,
		When:        l.Span(e.StartsAt, e.EndsAt, e.AllDay, e.Location()),
		src:         e,
		Image:       imageOf(e, l.Lang, ""),
		Facts:       factsOf(l, e),
		Spoken:      e.Languages,
		Where:       whereOf(e.Venue),
	}
	if e.MaxSessions != nil {
		v.MaxSessions = *e.MaxSessions
	}
	var lang string
	v.Title, lang = e.Title.In(l.Lang, e.DefaultLang)
	if lang != l.Lang {
		v.TitleLang = lang
	}
	desc, lang := e.Description.In(l.Lang, e.DefaultLang)
	if desc != "" {
		for _, p := range strings.Split(strings.ReplaceAll(desc, "\r\n", "\n"), "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				v.Description = append(v.Description, p)
			}
		}
		if lang != l.Lang {
			v.DescriptionLang = lang
		}
	}

	state := e.RegistrationState(now)
	v.Open = state == "open"
	v.Full = e.Full()
	switch {
	case state == "open" && e.Access == event.AccessMembers:
		v.StateClass, v.StateLabel = "members", l.T("state.members_only", nil)
	case state == "open" && v.Full && e.Waitlist:
		v.StateClass, v.StateLabel = "waitlist", l.T("state.waitlist", nil)
	case state == "open" && v.Full:
		v.StateClass, v.StateLabel, v.Open = "full", l.T("state.full", nil), false
	case state == "open" && e.SeatsLeft() != nil:
		v.StateClass, v.StateLabel = "open", l.N("seats_left", *e.SeatsLeft(), nil)
	case state == "open":
		v.StateClass, v.StateLabel = "open", l.T("state.unlimited", nil)
	case state == "draft":
		v.StateClass, v.StateLabel = "closed", l.T("state.closed", nil)
	default:
		v.StateClass, v.StateLabel = state, l.T("state."+state, nil)
	}
	if e.WaitlistLength > 0 {
		v.WaitlistLabel = l.N("waitlist_length", e.WaitlistLength, nil)
	}

	loc := e.Location()
	if partners := e.Partners.Accepted(); e.Access == event.AccessMembers && len(partners) > 0 {
		v.Notes = append(v.Notes, l.T("event.members_only_partners", map[string]any{"Org": e.OrgName, "Partners": partners.Names()}))
		v.MemberHint = l.T("access.member_number_hint_partners", nil)
	} else if e.Access == event.AccessMembers {
		v.Notes = append(v.Notes, l.T("event.members_only", map[string]any{"Org": e.OrgName}))
		v.MemberHint = l.T("access.member_number_hint", map[string]any{"Org": e.OrgName})
	}
	if e.Approval {
		v.Approval = true
		v.Notes = append(v.Notes, l.T("approval.event_note", nil))
	}
	switch {
	case e.MinAge != nil && e.MaxAge != nil:
		v.Notes = append(v.Notes, l.T("event.age_range", map[string]any{"Min": *e.MinAge, "Max": *e.MaxAge}))
	case e.MinAge != nil:
		v.Notes = append(v.Notes, l.T("event.age_min", map[string]any{"Min": *e.MinAge}))
	case e.MaxAge != nil:
		v.Notes = append(v.Notes, l.T("event.age_max", map[string]any{"Max": *e.MaxAge}))
	}
	if state == "not_yet_open" {
		v.Notes = append(v.Notes, l.T("event.opens_at", map[string]any{"When": l.DateTime(*e.RegistrationOpensAt, loc)}))
	} else if state == "open" && e.RegistrationClosesAt != nil {
		v.Notes = append(v.Notes, l.T("event.closes_at", map[string]any{"When": l.DateTime(*e.RegistrationClosesAt, loc)}))
	}
	return v
}
