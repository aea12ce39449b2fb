package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
)

// adminEventRow is one event in the organisation's list.
type adminEventRow struct {
	Slug           string
	Title          string
	TitleLang      string // set when the title is not in the page's language
	When           string
	Status         string
	SeatsConfirmed int
	Capacity       *int
	Waitlist       int
	// Sessions are the per-session counts (admin_sessions.go).
	Sessions []sessionCount
}

// eventSection is a list of events under a heading (message ids).
type eventSection struct {
	ID, Heading, Empty string
	Rows               []adminEventRow
}

type adminOrgPage struct {
	adminFrame
	Sections []eventSection
}

// adminOrg is GET /admin/orgs/:org: the organisation's events, drafts and
// cancelled ones included; upcoming first, then past ones, latest first.
func (s *server) adminOrg(c *gin.Context) {
	l := localizer(c)
	p := principal(c)
	evs, err := s.Events.List(c.Request.Context(), event.Filter{
		OrgSlug: p.OrgSlug, Statuses: []string{event.Draft, event.Published, event.Cancelled}, Limit: 500,
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	upcoming := eventSection{ID: "upcoming", Heading: "admin.org.upcoming", Empty: "admin.org.no_upcoming"}
	past := eventSection{ID: "past", Heading: "admin.org.past"}
	now := time.Now()
	for i := range evs {
		e := &evs[i]
		title, tl := e.Title.In(l.Lang, e.DefaultLang)
		row := adminEventRow{
			Slug: e.Slug, Title: title, TitleLang: otherLang(l, tl), When: l.Span(e.StartsAt, e.EndsAt, e.AllDay, e.Location()),
			Status: e.Status, SeatsConfirmed: e.SeatsConfirmed, Capacity: e.Capacity, Waitlist: e.WaitlistLength,
			Sessions: sessionCounts(l, e),
		}
		if e.EndsAt.Before(now) {
			past.Rows = append(past.Rows, row)
		} else {
			upcoming.Rows = append(upcoming.Rows, row)
		}
	}
	slices.Reverse(past.Rows)
	page := adminOrgPage{adminFrame: frame(c, "events"), Sections: []eventSection{upcoming}}
	if len(past.Rows) > 0 {
		page.Sections = append(page.Sections, past)
	}
	s.render(c, http.StatusOK, "admin_org", p.OrgName, page)
}

type eventEditorPage struct {
	adminFrame
	// Event is nil while a new event is written.
	Event     *event.Event
	Form      eventForm
	Errors    map[string]string
	ErrorList []fieldError
	Problem   string
	// VenueOptions are the organisation's venues to pick from.
	VenueOptions []option
	Kinds        []option
	Languages    []option
	Zones        []string
	Action       string
	Preview      string
	PublicURL    string
	// TitleLang is set when the event's title is not in the page's language.
	TitleLang string
	// Series: the event is a date of a series (series.go).
	Series *event.Membership
	// CanRelease offers the release of no-shows (admin_release.go): the
	// event is published and has started.
	CanRelease bool
	// VenueFacts (yes/no/unknown), Coordinates and LanguageLists are the
	// facts' fields in page order, with their values as in the form.
	VenueFacts    []formField
	Coordinates   []formField
	LanguageLists []languageList
}

// formField is a field of the editor drawn from a list: its name (after
// "venue_" for the venue's), the message id of its label, its value.
type formField struct{ Name, Label, Value string }

// languageList is a set of language checkboxes.
type languageList struct {
	Name, Label, Hint string
	Value             []string
}

func (s *server) renderEditor(c *gin.Context, status int, e *event.Event, form eventForm, fail error) {
	l := localizer(c)
	p := principal(c)
	venues, err := s.Events.Venues(c.Request.Context(), p.OrgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	page := eventEditorPage{
		adminFrame: frame(c, "events"), Event: e, Form: form, Zones: commonZones,
		Action: s.orgPath(c) + "/new-event", Preview: s.orgPath(c) + "/new-event/preview",
	}
	for _, v := range venues {
		label := v.Name
		if a := v.Address(); a != "" {
			label += " – " + a
		}
		page.VenueOptions = append(page.VenueOptions, option{strconv.FormatInt(*v.ID, 10), label})
	}
	for _, k := range event.Kinds {
		page.Kinds = append(page.Kinds, option{k, l.T("kind."+k, nil)})
	}
	for _, lang := range config.Languages {
		page.Languages = append(page.Languages, option{lang, languageNames[lang]})
	}
	page.VenueFacts = []formField{
		{"step_free", "access.step_free", form.StepFree},
		{"accessible_toilet", "access.accessible_toilet", form.AccessibleToilet},
		{"hearing_loop", "access.hearing_loop", form.HearingLoop},
	}
	page.Coordinates = []formField{{"lat", "admin.event.venue_lat", form.Lat}, {"lon", "admin.event.venue_lon", form.Lon}}
	page.LanguageLists = []languageList{
		{"languages", "admin.event.languages", "admin.event.languages_hint", form.Languages},
		{"interpreting", "admin.event.interpreting", "admin.event.interpreting_hint", form.Interpreting},
	}
	title := l.T("admin.event.new_title", nil)
	if e != nil {
		page.Action = s.orgPath(c) + "/events/" + e.Slug
		page.Preview = page.Action + "/preview"
		if e.Status != event.Draft {
			page.PublicURL = "/events/" + e.Slug
		}
		var tl string
		title, tl = e.Title.In(l.Lang, e.DefaultLang)
		page.TitleLang = otherLang(l, tl)
		page.CanRelease = e.Status == event.Published && !time.Now().Before(e.StartsAt)
		if page.Series, err = s.Events.MembershipOf(c.Request.Context(), e.ID); err != nil {
			_ = c.Error(err)
			return
		}
	}
	if fail != nil {
		ae := apperr.From(fail)
		if len(ae.Fields) > 0 {
			page.Errors, page.ErrorList = formErrors(l, ae.Fields, form.DefaultLang)
		} else {
			page.Problem = l.T(ae.Msg.ID, ae.Msg.Data)
		}
	}
	s.render(c, status, "admin_event", title, page)
}

// newEventForm is GET /admin/orgs/:org/new-event.
func (s *server) newEventForm(c *gin.Context) {
	s.renderEditor(c, http.StatusOK, nil, newEventForm(), nil)
}

// formInput reads the editor's form into an event.Input. Fields that do not
// parse are reported together with what the service finds wrong with the
// rest, so that one round trip shows every problem.
func (s *server) formInput(c *gin.Context, slug string) (eventForm, event.Input, error) {
	form := readEventForm(c)
	venues, err := s.Events.Venues(c.Request.Context(), principal(c).OrgID)
	if err != nil {
		return form, event.Input{}, err
	}
	in, bad := form.input(slug == "", venues)
	if len(bad) == 0 {
		return form, in, nil
	}
	_, perr := s.Events.Preview(c.Request.Context(), principal(c).OrgID, slug, in)
	if ae := apperr.From(perr); perr != nil && ae.Code == apperr.Invalid {
		for f, m := range ae.Fields {
			if _, ok := bad[f]; !ok {
				bad[f] = m
			}
		}
	}
	return form, in, bad.Err()
}

// applyAction sets the status the editor's button asks for: "publish" or
// "draft"; anything else keeps it.
func applyAction(c *gin.Context, in *event.Input) {
	switch c.PostForm("action") {
	case "publish":
		st := event.Published
		in.Status = &st
	case "draft":
		st := event.Draft
		in.Status = &st
	}
}

// createEvent is POST /admin/orgs/:org/new-event: save as draft, or publish.
func (s *server) createEvent(c *gin.Context) {
	form, in, err := s.formInput(c, "")
	if err == nil {
		applyAction(c, &in)
		if in.Status == nil {
			st := event.Draft
			in.Status = &st
		}
		var e *event.Event
		err = s.audited(c, audit.Entry{Action: audit.EventCreate, Target: deref(in.Slug), Details: statusDetail(in.Status)}, func(ctx context.Context) (err error) {
			e, err = s.Events.Create(ctx, principal(c).OrgID, in)
			return err
		})
		if err == nil {
			s.flash(c, savedMessage(e))
			c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/events/"+e.Slug)
			return
		}
	}
	s.editorFailed(c, nil, form, err)
}

func savedMessage(e *event.Event) string {
	if e.Status == event.Published {
		return "admin.flash.published"
	}
	return "admin.flash.saved"
}

// editorFailed shows the form again for a problem with the input or a rule,
// and passes anything else to the error page.
func (s *server) editorFailed(c *gin.Context, e *event.Event, form eventForm, err error) {
	switch ae := apperr.From(err); ae.Code {
	case apperr.Invalid, apperr.Conflict:
		s.renderEditor(c, httpcode.Of(ae), e, form, err)
	default:
		_ = c.Error(err)
	}
}

// orgEvent is the event :slug of the request's organisation.
func (s *server) orgEvent(c *gin.Context) (*event.Event, error) {
	return s.Events.GetForOrg(c.Request.Context(), principal(c).OrgID, c.Param("slug"))
}

// editEventForm is GET /admin/orgs/:org/events/:slug.
func (s *server) editEventForm(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.renderEditor(c, http.StatusOK, e, formFromEvent(e), nil)
}

// updateEvent is POST /admin/orgs/:org/events/:slug: save a change (the
// service tells attendees of a new time or place), publish a draft.
func (s *server) updateEvent(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	form, in, err := s.formInput(c, e.Slug)
	if err == nil {
		applyAction(c, &in)
		var changed *event.Event
		err = s.audited(c, audit.Entry{Action: audit.EventUpdate, Target: e.Slug, Details: statusDetail(in.Status)}, func(ctx context.Context) (err error) {
			changed, err = s.Events.Update(ctx, principal(c).OrgID, e.Slug, in)
			return err
		})
		if err == nil {
			msg := "admin.flash.saved"
			if changed.Status == event.Published && e.Status == event.Draft {
				msg = "admin.flash.published"
			}
			s.flash(c, msg)
			c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/events/"+changed.Slug)
			return
		}
	}
	form.Slug = e.Slug
	s.editorFailed(c, e, form, err)
}

// cancelEvent is POST /admin/orgs/:org/events/:slug/cancel; the service
// tells everyone signed up.
func (s *server) cancelEvent(c *gin.Context) {
	var e *event.Event
	err := s.audited(c, audit.Entry{Action: audit.EventCancel, Target: c.Param("slug")}, func(ctx context.Context) (err error) {
		e, err = s.Events.Cancel(ctx, principal(c).OrgID, c.Param("slug"))
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.flash(c, "admin.flash.cancelled")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/events/"+e.Slug)
}

// duplicateEvent is POST /admin/orgs/:org/events/:slug/duplicate: a new
// draft with the same contents, opened in the editor.
func (s *server) duplicateEvent(c *gin.Context) {
	var e *event.Event
	err := s.audited(c, audit.Entry{Action: audit.EventDuplicate, Target: c.Param("slug")}, func(ctx context.Context) (err error) {
		e, err = s.Events.Duplicate(ctx, principal(c).OrgID, c.Param("slug"))
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.flash(c, "admin.flash.duplicated")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/events/"+e.Slug)
}

// previewNewEvent is POST /admin/orgs/:org/new-event/preview: the public
// page of the event as typed, nothing saved.
func (s *server) previewNewEvent(c *gin.Context) { s.previewForm(c, nil) }

// previewEventChange is POST /admin/orgs/:org/events/:slug/preview: the
// public page with the typed changes, nothing saved.
func (s *server) previewEventChange(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.previewForm(c, e)
}

func (s *server) previewForm(c *gin.Context, e *event.Event) {
	slug := ""
	if e != nil {
		slug = e.Slug
	}
	form, in, err := s.formInput(c, slug)
	if err == nil {
		var preview *event.Event
		if preview, err = s.Events.Preview(c.Request.Context(), principal(c).OrgID, slug, in); err == nil {
			s.renderPreview(c, preview)
			return
		}
	}
	if e != nil {
		form.Slug = e.Slug
	}
	s.editorFailed(c, e, form, err)
}

// previewSavedEvent is GET /admin/orgs/:org/events/:slug/preview: the
// public page of the saved event, drafts included.
func (s *server) previewSavedEvent(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.renderPreview(c, e)
}

// renderPreview renders the public event page itself, marked as a preview
// and without the sign-up form.
func (s *server) renderPreview(c *gin.Context, e *event.Event) {
	l := localizer(c)
	v := newEventView(l, e, time.Now())
	v.Open = false
	v.Notes = append([]string{l.T("admin.preview_note", nil)}, v.Notes...)
	c.Header("X-Robots-Tag", "noindex")
	s.render(c, http.StatusOK, "event", v.Title, eventPage{Event: v, RetentionDays: s.Config.RetentionDays})
}
