package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/registration"
)

// The figures page (/admin/orgs/:org/stats): a year at a glance for
// funders, as bar charts drawn here as SVG (no chart script), each with a
// table of the same numbers for screen readers, and the same figures as
// CSV (docs/organisers.md, "Figures").

type statsPage struct {
	adminFrame
	// Network is the network admins' page (/admin/stats): every
	// organisation's events, each named with its organisation.
	Network  bool
	Year     int
	Years    []int
	Stats    *registration.Stats
	Charts   []barChart
	Events   []statsEventRow
	Sessions []statsSessionRow
	Rate     string
	CSV      string
}

type statsEventRow struct {
	Title, TitleLang, Slug, Org, Date, Rate string
	F                                       *registration.Figures
}

// statsSessionRow is one session of an event in the per-session table.
type statsSessionRow struct {
	Event, EventLang, Slug string
	Title, TitleLang       string
	When                   string
	S                      *registration.SessionFigures
}

// barChart is a horizontal bar chart, laid out here so that the template
// only places what is computed: Bars and Texts in SVG user units.
type barChart struct {
	ID, Title string
	Series    []chartSeries
	Rows      []chartRow
	Width     int
	Height    int
	Bars      []svgBar
	Texts     []svgText
}

type chartSeries struct {
	Label, Fill string
}

type chartRow struct {
	Label  string
	Values []string // as shown: a number or "<5"
}

type svgBar struct {
	X, Y, W, H int
	Fill       string
}

type svgText struct {
	X, Y   int
	Anchor string
	Text   string
	Bold   bool
}

var seriesFills = []string{"#1d5fa8", "#2e7d32"}

const (
	chartWidth = 640
	labelWidth = 170
	valueWidth = 56
	barHeight  = 14
	barGap     = 3
	rowGap     = 10
	chartTop   = 6
)

// layoutChart places the bars: labels at the start side, bars growing
// towards the end side, values after the bars; right to left in an RTL
// language. A suppressed cell ("<5") gets no bar, only its text, so that
// its length tells nothing either.
func layoutChart(id, title string, series []chartSeries, rows []chartRow, values [][]registration.Cell, rtl bool) barChart {
	ch := barChart{ID: id, Title: title, Series: series, Rows: rows, Width: chartWidth}
	maxV := 0
	for _, vs := range values {
		for _, v := range vs {
			if !v.Suppressed() && int(v) > maxV {
				maxV = int(v)
			}
		}
	}
	span := chartWidth - labelWidth - valueWidth
	rowH := len(series)*(barHeight+barGap) + rowGap
	for i, r := range rows {
		y := chartTop + i*rowH
		lx, la := labelWidth-8, "end"
		if rtl {
			lx, la = chartWidth-labelWidth+8, "start"
		}
		ch.Texts = append(ch.Texts, svgText{X: lx, Y: y + len(series)*(barHeight+barGap)/2 + 4, Anchor: la, Text: r.Label, Bold: true})
		for j := range series {
			v := values[i][j]
			w := 0
			if !v.Suppressed() && maxV > 0 {
				w = int(v) * span / maxV
			}
			by := y + j*(barHeight+barGap)
			x := labelWidth
			vx, va := labelWidth+w+4, "start"
			if rtl {
				x = chartWidth - labelWidth - w
				vx, va = x-4, "end"
			}
			if w > 0 {
				ch.Bars = append(ch.Bars, svgBar{X: x, Y: by, W: w, H: barHeight, Fill: series[j].Fill})
			}
			ch.Texts = append(ch.Texts, svgText{X: vx, Y: by + barHeight - 3, Anchor: va, Text: r.Values[j]})
		}
	}
	ch.Height = chartTop*2 + len(rows)*rowH
	return ch
}

// statsYear reads ?year=, the current year by default; a year outside
// 2000–2100 is refused.
func statsYear(c *gin.Context) (int, error) {
	year := time.Now().In(event.Zone(event.DefaultTimezone)).Year()
	if q := c.Query("year"); q != "" {
		y, err := strconv.Atoi(q)
		if err != nil || y < 2000 || y > 2100 {
			return 0, apperr.Field("year", "admin.stats.err_year")
		}
		year = y
	}
	return year, nil
}

// yearStats reads the figures of orgID's events (every organisation's
// when 0) that start in the year asked for.
func (s *server) yearStats(c *gin.Context, orgID int64) (int, *registration.Stats, error) {
	year, err := statsYear(c)
	if err != nil {
		return 0, nil, err
	}
	st, err := s.Registrations.Stats(c.Request.Context(), orgID, registration.StatsRange{
		From: fmt.Sprintf("%04d-01-01", year), To: fmt.Sprintf("%04d-12-31", year)})
	return year, st, err
}

func rateText(r *float64) string {
	if r == nil {
		return "–"
	}
	return strconv.FormatFloat(*r*100, 'f', 1, 64) + " %"
}

// adminStats is GET /admin/orgs/:org/stats[?year=].
func (s *server) adminStats(c *gin.Context) {
	s.statsPage(c, frame(c, "stats"), principal(c).OrgID, s.orgPath(c)+"/stats.csv")
}

// networkStats is GET /admin/stats[?year=] (network admins): the same page
// over every organisation's events, the figures of GET /api/v1/stats.
func (s *server) networkStats(c *gin.Context) {
	f := frame(c, "network-stats")
	f.Checkin = true
	s.statsPage(c, f, 0, "/admin/stats.csv")
}

// requireNetworkAdmin admits network admins only; anyone else signed in is
// refused (403), as the page holds every organisation's figures.
func (s *server) requireNetworkAdmin(c *gin.Context) {
	if u := user(c); u == nil || !u.Admin {
		_ = c.Error(apperr.New(apperr.Forbidden, "err.forbidden"))
		c.Abort()
		return
	}
	c.Next()
}

func (s *server) statsPage(c *gin.Context, f adminFrame, orgID int64, csv string) {
	year, st, err := s.yearStats(c, orgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	l := localizer(c)
	rtl := i18n.Dir(l.Lang) == "rtl"
	now := time.Now().Year()
	p := statsPage{adminFrame: f, Network: orgID == 0, Year: year, Stats: st, Rate: rateText(st.Total.NoShowRate),
		CSV: fmt.Sprintf("%s?year=%d", csv, year)}
	for y := now + 1; y >= now-5; y-- {
		p.Years = append(p.Years, y)
	}
	if year > now+1 || year < now-5 {
		p.Years = append(p.Years, year)
	}
	for i := range st.Events {
		e := &st.Events[i]
		zone := event.Zone(e.Timezone)
		p.Events = append(p.Events, statsEventRow{Title: e.Title, TitleLang: e.TitleLang, Slug: e.Slug, Org: e.Org,
			Date: e.StartsAt.In(zone).Format("02.01.2006"), Rate: rateText(e.NoShowRate), F: &e.Figures})
		for j := range e.Sessions {
			ses := &e.Sessions[j]
			p.Sessions = append(p.Sessions, statsSessionRow{Event: e.Title, EventLang: e.TitleLang, Slug: e.Slug,
				Title: ses.Title, TitleLang: ses.TitleLang, When: ses.StartsAt.In(zone).Format("02.01.2006 15:04"), S: ses})
		}
	}

	// Persons by month.
	months := st.ByMonth()
	rows := make([]chartRow, len(months))
	vals := make([][]registration.Cell, len(months))
	for i, m := range months {
		mt, _ := time.Parse("2006-01", m.Month)
		rows[i] = chartRow{Label: l.T("month."+strconv.Itoa(int(mt.Month())), nil), Values: []string{m.Confirmed.String(), m.CheckedIn.String()}}
		vals[i] = []registration.Cell{m.Confirmed, m.CheckedIn}
	}
	p.Charts = append(p.Charts, layoutChart("chart-months", l.T("admin.stats.chart_months", nil),
		[]chartSeries{{l.T("admin.stats.persons_confirmed", nil), seriesFills[0]}, {l.T("admin.stats.persons_checked_in", nil), seriesFills[1]}},
		rows, vals, rtl))
	one := []chartSeries{{l.T("admin.stats.registrations", nil), seriesFills[0]}}
	breakdown := func(id, title string, b registration.Breakdown, order []string, label func(string) string) {
		if len(b) == 0 {
			return
		}
		var rows []chartRow
		var vals [][]registration.Cell
		for _, k := range b.Keys(order) {
			rows = append(rows, chartRow{Label: label(k), Values: []string{b[k].String()}})
			vals = append(vals, []registration.Cell{b[k]})
		}
		p.Charts = append(p.Charts, layoutChart(id, title, one, rows, vals, rtl))
	}
	breakdown("chart-langs", l.T("admin.stats.chart_langs", nil), st.Total.ByLang, registration.LangOrder, i18n.Name)
	breakdown("chart-ages", l.T("admin.stats.chart_ages", nil), st.Total.ByAgeBand, registration.AgeBands,
		func(k string) string { return l.T("admin.stats.age."+k, nil) })
	breakdown("chart-members", l.T("admin.stats.chart_members", nil), st.Total.Members, []string{registration.MembersKey, registration.OthersKey},
		func(k string) string { return l.T("admin.stats.members."+k, nil) })
	title := "admin.stats.title"
	if p.Network {
		title = "admin.stats.network_title"
	}
	s.render(c, http.StatusOK, "admin_stats", l.T(title, map[string]any{"Year": year}), p)
}

// adminStatsCSV is GET /admin/orgs/:org/stats.csv[?year=][&sep=semicolon]:
// the page's figures as rows (registration.StatsColumns).
func (s *server) adminStatsCSV(c *gin.Context) {
	s.statsCSV(c, principal(c).OrgID, principal(c).OrgSlug)
}

// networkStatsCSV is GET /admin/stats.csv[?year=][&sep=semicolon] (network
// admins): the network page's figures.
func (s *server) networkStatsCSV(c *gin.Context) {
	s.statsCSV(c, 0, "network")
}

func (s *server) statsCSV(c *gin.Context, orgID int64, name string) {
	year, st, err := s.yearStats(c, orgID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	comma := ','
	if c.Query("sep") == "semicolon" {
		comma = ';'
	}
	var buf bytes.Buffer
	if err := registration.WriteCSV(&buf, st.Table(), comma); err != nil {
		_ = c.Error(apperr.Wrap(err, "write csv"))
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-figures-%d.csv"`, name, year))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
