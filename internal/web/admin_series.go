package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
)

// Series in the organisers' area (issue 20): the organisation's series
// with their dates, a date added or cancelled one at a time, and a series
// made from an event with a simple repetition form. Every change goes
// through the series service, as the API's do.

type adminSeriesPage struct {
	adminFrame
	Series []adminSeriesView
}

type adminSeriesView struct {
	Slug, Title, TitleLang, Rule string
	Dates                        []adminSeriesDate
	// Add is the add-date form as typed, with its errors.
	Add    addDateForm
	Errors map[string]string
}

type adminSeriesDate struct {
	Slug, When, Status string
	TitleLang          string
	Taken              int
	Capacity           *int
	EditedAlone        bool
	// Cancellable: not cancelled and not over.
	Cancellable bool
}

type addDateForm struct{ StartsAt, EndsAt string }

func (s *server) adminSeriesRoutes(o *gin.RouterGroup, organiser gin.HandlerFunc) {
	o.GET("/series", organiser, s.adminSeries)
	o.POST("/series/:slug/dates", organiser, s.addSeriesDate)
	o.POST("/series/:slug/dates/:date/cancel", organiser, s.cancelSeriesDate)
	o.GET("/events/:slug/series", organiser, s.newSeriesForm)
	o.POST("/events/:slug/series", organiser, s.createSeries)
}

// adminSeries is GET /admin/orgs/:org/series.
func (s *server) adminSeries(c *gin.Context) {
	s.renderAdminSeries(c, http.StatusOK, "", addDateForm{}, nil)
}

// renderAdminSeries shows every series; failed names the series whose
// add-date form is shown again with its input and err.
func (s *server) renderAdminSeries(c *gin.Context, status int, failed string, add addDateForm, fail error) {
	l := localizer(c)
	list, err := s.Events.OrgSeries(c.Request.Context(), principal(c).OrgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	now := time.Now()
	page := adminSeriesPage{adminFrame: frame(c, "series")}
	for _, sr := range list {
		v := adminSeriesView{Slug: sr.Slug, Rule: sr.RRule}
		for _, d := range sr.Dates {
			title, tl := d.Title.In(l.Lang, d.DefaultLang)
			v.Title, v.TitleLang = title, otherLang(l, tl)
			v.Dates = append(v.Dates, adminSeriesDate{
				Slug: d.Slug, When: l.Span(d.StartsAt, d.EndsAt, d.AllDay, d.Location()), Status: d.Status,
				TitleLang: v.TitleLang, Taken: d.SeatsConfirmed, Capacity: d.Capacity, EditedAlone: sr.EditedAlone[d.ID],
				Cancellable: d.Status != event.Cancelled && d.EndsAt.After(now),
			})
		}
		if sr.Slug == failed {
			v.Add = add
			if fail != nil {
				v.Errors = map[string]string{}
				for f, m := range apperr.From(fail).Fields {
					id := "ends_at"
					if !strings.HasSuffix(f, ".ends_at") {
						id = "starts_at"
					}
					if _, ok := v.Errors[id]; !ok {
						v.Errors[id] = l.T(m.ID, m.Data)
					}
				}
				if len(v.Errors) == 0 {
					ae := apperr.From(fail)
					v.Errors["starts_at"] = l.T(ae.Msg.ID, ae.Msg.Data)
				}
			}
		}
		page.Series = append(page.Series, v)
	}
	s.render(c, status, "admin_series", l.T("admin.series.heading", nil), page)
}

// seriesZone is the time zone the dates of sr are typed in: its first
// date's.
func seriesZone(sr *event.Series) *time.Location {
	if len(sr.Dates) > 0 {
		return sr.Dates[0].Location()
	}
	return event.Zone(event.DefaultTimezone)
}

// addSeriesDate is POST /admin/orgs/:org/series/:slug/dates: one date more,
// made from the template (UpdateSeries with add_dates, as the API's PATCH).
func (s *server) addSeriesDate(c *gin.Context) {
	slug := c.Param("slug")
	form := addDateForm{StartsAt: strings.TrimSpace(c.PostForm("starts_at")), EndsAt: strings.TrimSpace(c.PostForm("ends_at"))}
	sr, err := s.Events.GetSeriesForOrg(c.Request.Context(), principal(c).OrgID, slug)
	if err != nil {
		_ = c.Error(err)
		return
	}
	loc := seriesZone(sr)
	bad := apperr.Fields{}
	starts := parseLocal(bad, "add_dates[0].starts_at", form.StartsAt, loc)
	ends := parseLocal(bad, "add_dates[0].ends_at", form.EndsAt, loc)
	err = bad.Err()
	if err == nil {
		err = s.audited(c, audit.Entry{Action: audit.EventUpdate, Target: slug, Details: map[string]any{"series": true, "add_dates": 1}}, func(ctx context.Context) error {
			_, err := s.Events.UpdateSeries(ctx, principal(c).OrgID, slug, event.SeriesPatch{AddDates: []event.Span{{StartsAt: starts, EndsAt: ends}}})
			return err
		})
	}
	if err != nil {
		if ae := apperr.From(err); ae.Code == apperr.Invalid || ae.Code == apperr.Conflict {
			s.renderAdminSeries(c, httpcode.Of(ae), slug, form, err)
			return
		}
		_ = c.Error(err)
		return
	}
	s.flash(c, "admin.flash.date_added")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/series#series-"+slug)
}

// parseLocal reads a datetime-local field in loc; a missing or unreadable
// value is a field error and the zero time.
func parseLocal(bad apperr.Fields, field, v string, loc *time.Location) time.Time {
	if v == "" {
		bad.Add(field, "err.required")
		return time.Time{}
	}
	t, err := time.ParseInLocation(dateTimeLocal, v, loc)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02T15:04:05", v, loc)
	}
	if err != nil {
		bad.Add(field, "err.datetime_local")
		return time.Time{}
	}
	return t
}

// cancelSeriesDate is POST /admin/orgs/:org/series/:slug/dates/:date/cancel:
// the date is cancelled as the event it is (participants are told).
func (s *server) cancelSeriesDate(c *gin.Context) {
	slug, date := c.Param("slug"), c.Param("date")
	err := s.audited(c, audit.Entry{Action: audit.EventCancel, Target: date, Details: map[string]any{"series": slug}}, func(ctx context.Context) error {
		_, err := s.Events.CancelSeriesDate(ctx, principal(c).OrgID, slug, date)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.flash(c, "admin.flash.date_cancelled")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/series#series-"+slug)
}

// seriesForm is the form that makes a series of an event, as typed.
type seriesForm struct {
	Slug, FirstStarts, FirstEnds string
	Freq, Interval, Weekday      string
	Count, Until                 string
}

var ruleWeekdays = []struct {
	Code string
	Day  time.Weekday
}{{"MO", time.Monday}, {"TU", time.Tuesday}, {"WE", time.Wednesday}, {"TH", time.Thursday},
	{"FR", time.Friday}, {"SA", time.Saturday}, {"SU", time.Sunday}}

func codeOf(d time.Weekday) string {
	for _, w := range ruleWeekdays {
		if w.Day == d {
			return w.Code
		}
	}
	return "MO"
}

// rule turns the form into an RRULE and the first date, in loc. Fields
// that do not parse are named as the form names them.
func (f seriesForm) rule(loc *time.Location) (string, event.Span, apperr.Fields) {
	bad := apperr.Fields{}
	first := event.Span{StartsAt: parseLocal(bad, "first_starts", f.FirstStarts, loc), EndsAt: parseLocal(bad, "first_ends", f.FirstEnds, loc)}
	i := slices.IndexFunc(ruleWeekdays, func(w struct {
		Code string
		Day  time.Weekday
	}) bool {
		return w.Code == f.Weekday
	})
	if i < 0 {
		bad.Add("weekday", "err.choice")
	}
	var r string
	switch f.Freq {
	case "weekly":
		r = "FREQ=WEEKLY;BYDAY=" + f.Weekday
	case "weeks":
		n, err := strconv.Atoi(strings.TrimSpace(f.Interval))
		if err != nil || n < 1 || n > 52 {
			bad.Add("interval", "err.range", "Min", 1, "Max", 52)
		}
		r = "FREQ=WEEKLY;INTERVAL=" + strconv.Itoa(n) + ";BYDAY=" + f.Weekday
	case "monthly":
		// The same weekday of the month as the first date: its second
		// Tuesday, or its last one when it is a fifth.
		n := (first.StartsAt.Day()-1)/7 + 1
		if n == 5 {
			n = -1
		}
		r = "FREQ=MONTHLY;BYDAY=" + strconv.Itoa(n) + f.Weekday
	default:
		bad.Add("freq", "err.choice")
	}
	count, until := strings.TrimSpace(f.Count), strings.TrimSpace(f.Until)
	switch {
	case (count == "") == (until == ""):
		bad.Add("count", "err.series_end")
	case count != "":
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 || n > event.MaxSeriesDates {
			bad.Add("count", "err.range", "Min", 1, "Max", event.MaxSeriesDates)
		}
		r += ";COUNT=" + strconv.Itoa(n)
	default:
		d, err := time.Parse("2006-01-02", until)
		if err != nil {
			bad.Add("until", "err.stats_date")
		}
		r += ";UNTIL=" + d.Format("20060102")
	}
	return r, first, bad
}

// seriesFields are the series form's fields in page order with their
// labels, for the error summary.
var seriesFields = []struct{ name, label string }{
	{"slug", "admin.series.slug"}, {"first_starts", "admin.series.first_starts"}, {"first_ends", "admin.series.first_ends"},
	{"freq", "admin.series.freq"}, {"interval", "admin.series.interval"}, {"weekday", "admin.series.weekday"},
	{"count", "admin.series.count"}, {"until", "admin.series.until"},
}

type newSeriesPage struct {
	adminFrame
	Event     *event.Event
	Title     string
	TitleLang string
	Form      seriesForm
	Weekdays  []option
	Max       int
	Errors    map[string]string
	ErrorList []fieldError
	Problem   string
}

// newSeriesForm is GET /admin/orgs/:org/events/:slug/series: the event's
// own times as the first date, weekly on its weekday, ten dates.
func (s *server) newSeriesForm(c *gin.Context) {
	e, err := s.Events.GetForOrg(c.Request.Context(), principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	loc := e.Location()
	f := seriesForm{
		Slug:        strings.TrimSuffix(seriesSlugOf(e.Slug), "-"),
		FirstStarts: e.StartsAt.In(loc).Format(dateTimeLocal), FirstEnds: e.EndsAt.In(loc).Format(dateTimeLocal),
		Freq: "weekly", Interval: "2", Weekday: codeOf(e.StartsAt.In(loc).Weekday()), Count: "10",
	}
	s.renderNewSeries(c, http.StatusOK, e, f, nil)
}

// seriesSlugOf is a slug without a trailing date (…-2027-05-01) or copy
// number, cut to the length a series slug may have.
func seriesSlugOf(slug string) string {
	if len(slug) > 11 {
		if _, err := time.Parse("2006-01-02", slug[len(slug)-10:]); err == nil && slug[len(slug)-11] == '-' {
			slug = slug[:len(slug)-11]
		}
	}
	if len(slug) > 69 {
		slug = slug[:69]
	}
	return slug
}

func (s *server) renderNewSeries(c *gin.Context, status int, e *event.Event, f seriesForm, fail error) {
	l := localizer(c)
	title, tl := e.Title.In(l.Lang, e.DefaultLang)
	p := newSeriesPage{adminFrame: frame(c, "series"), Event: e, Title: title, TitleLang: otherLang(l, tl), Form: f, Max: event.MaxSeriesDates}
	for _, w := range ruleWeekdays {
		p.Weekdays = append(p.Weekdays, option{w.Code, l.T("weekday."+strings.ToLower(w.Day.String()), nil)})
	}
	if fail != nil {
		ae := apperr.From(fail)
		byField := map[string]string{}
		var other []string
		for name, m := range ae.Fields {
			msg := l.T(m.ID, m.Data)
			switch {
			case slices.ContainsFunc(seriesFields, func(sf struct{ name, label string }) bool { return sf.name == name }):
			case name == "first.starts_at":
				name = "first_starts"
			case name == "first.ends_at":
				name = "first_ends"
			case name == "rrule" && m.ID == "err.series_too_many":
				name = "count"
			case name == "rrule" || strings.HasPrefix(name, "rrule["):
				name = "freq"
			default:
				// A rule of the event that the template breaks (it
				// was valid when saved, so rarely seen): said as it is.
				other = append(other, msg)
				continue
			}
			if _, ok := byField[name]; !ok {
				byField[name] = msg
			}
		}
		p.Errors = byField
		for _, sf := range seriesFields {
			if msg, ok := byField[sf.name]; ok {
				p.ErrorList = append(p.ErrorList, fieldError{Field: sf.name, Label: l.T(sf.label, nil), Message: msg})
			}
		}
		switch {
		case len(other) > 0:
			slices.Sort(other)
			p.Problem = strings.Join(other, " ")
		case len(byField) == 0:
			p.Problem = l.T(ae.Msg.ID, ae.Msg.Data)
		}
	}
	s.render(c, status, "admin_series_new", l.T("admin.series.make", nil), p)
}

// createSeries is POST /admin/orgs/:org/events/:slug/series.
func (s *server) createSeries(c *gin.Context) {
	e, err := s.Events.GetForOrg(c.Request.Context(), principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	clean := func(name string) string { return strings.TrimSpace(strings.ToValidUTF8(c.PostForm(name), "")) }
	f := seriesForm{Slug: clean("slug"), FirstStarts: clean("first_starts"), FirstEnds: clean("first_ends"),
		Freq: clean("freq"), Interval: clean("interval"), Weekday: clean("weekday"), Count: clean("count"), Until: clean("until")}
	rrule, first, bad := f.rule(e.Location())
	err = bad.Err()
	if err == nil {
		err = s.audited(c, audit.Entry{Action: audit.EventCreate, Target: f.Slug, Details: map[string]any{"series": true, "from": e.Slug}}, func(ctx context.Context) error {
			_, err := s.Events.CreateSeriesFrom(ctx, principal(c).OrgID, e.Slug, event.SeriesInput{Slug: f.Slug, RRule: rrule, First: &first})
			return err
		})
	}
	if err != nil {
		if ae := apperr.From(err); ae.Code == apperr.Invalid || ae.Code == apperr.Conflict {
			s.renderNewSeries(c, httpcode.Of(ae), e, f, err)
			return
		}
		_ = c.Error(err)
		return
	}
	s.flash(c, "admin.flash.series_created")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/series#series-"+f.Slug)
}
