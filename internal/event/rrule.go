package event

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"treffpunkt/internal/apperr"
)

// MaxSeriesDates is how many dates one series may have: enough for two years
// of a weekly meeting, few enough that one transaction creates them all.
const MaxSeriesDates = 100

// rule is the part of RFC 5545's RRULE that series accept: FREQ
// DAILY/WEEKLY/MONTHLY, INTERVAL, BYDAY (with an ordinal for MONTHLY: 2TU,
// -1SU), COUNT or UNTIL. No module of the project's list expands RRULEs
// (docs/architecture.md), and this subset is small enough to expand here.
type rule struct {
	freq     string
	interval int
	byDay    []byDay
	count    int
	until    time.Time // zero: none
}

type byDay struct {
	n   int // 0: every such weekday of the period; 2: the second; -1: the last
	day time.Weekday
}

var weekdays = map[string]time.Weekday{"MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday,
	"TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday, "SU": time.Sunday}

// parseRule reads s; an error names the field "rrule" and the part at fault.
func parseRule(s string, loc *time.Location) (rule, error) {
	bad := func(part string) error {
		return apperr.Field("rrule", "err.rrule_part", "Part", part)
	}
	r := rule{interval: 1}
	seen := map[string]bool{}
	for p := range strings.SplitSeq(strings.TrimPrefix(strings.TrimSpace(s), "RRULE:"), ";") {
		name, value, ok := strings.Cut(p, "=")
		name = strings.ToUpper(strings.TrimSpace(name))
		value = strings.ToUpper(strings.TrimSpace(value))
		if !ok || value == "" || seen[name] {
			return r, bad(p)
		}
		seen[name] = true
		switch name {
		case "FREQ":
			if value != "DAILY" && value != "WEEKLY" && value != "MONTHLY" {
				return r, bad("FREQ")
			}
			r.freq = value
		case "INTERVAL":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 || n > 366 {
				return r, bad("INTERVAL")
			}
			r.interval = n
		case "COUNT":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return r, bad("COUNT")
			}
			if n > MaxSeriesDates {
				return r, apperr.Field("rrule", "err.series_too_many", "Max", MaxSeriesDates)
			}
			r.count = n
		case "UNTIL":
			t, err := parseUntil(value, loc)
			if err != nil {
				return r, bad("UNTIL")
			}
			r.until = t
		case "BYDAY":
			for d := range strings.SplitSeq(value, ",") {
				bd, ok := parseByDay(d)
				if !ok {
					return r, bad("BYDAY")
				}
				r.byDay = append(r.byDay, bd)
			}
		case "WKST":
			if value != "MO" {
				return r, bad("WKST")
			}
		default:
			return r, bad(name)
		}
	}
	switch {
	case r.freq == "":
		return r, bad("FREQ")
	case r.count > 0 && !r.until.IsZero():
		// RFC 5545: COUNT and UNTIL must not both occur.
		return r, bad("UNTIL")
	case r.count == 0 && r.until.IsZero():
		return r, bad("COUNT")
	}
	if r.freq != "MONTHLY" {
		for _, d := range r.byDay {
			if d.n != 0 {
				return r, bad("BYDAY")
			}
		}
	}
	return r, nil
}

func parseByDay(s string) (byDay, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return byDay{}, false
	}
	wd, ok := weekdays[s[len(s)-2:]]
	if !ok {
		return byDay{}, false
	}
	bd := byDay{day: wd}
	if num := s[:len(s)-2]; num != "" {
		n, err := strconv.Atoi(num)
		if err != nil || n == 0 || n < -5 || n > 5 {
			return byDay{}, false
		}
		bd.n = n
	}
	return bd, true
}

// parseUntil reads a DATE (the whole day counts), a UTC DATE-TIME (…Z) or a
// local DATE-TIME in loc.
func parseUntil(v string, loc *time.Location) (time.Time, error) {
	switch {
	case len(v) == 8:
		d, err := time.ParseInLocation("20060102", v, loc)
		if err != nil {
			return d, err
		}
		return d.AddDate(0, 0, 1).Add(-time.Second), nil
	case strings.HasSuffix(v, "Z"):
		return time.Parse("20060102T150405Z", v)
	default:
		return time.ParseInLocation("20060102T150405", v, loc)
	}
}

// expand lists the starts of the rule's dates from first on, in loc, each at
// first's wall-clock time: 19:00 stays 19:00 across a change to or from
// summer time. first must be one of them. More than MaxSeriesDates is an
// error.
func (r rule) expand(first time.Time, loc *time.Location) ([]time.Time, error) {
	first = first.In(loc)
	y, m, d := first.Date()
	hh, mm, ss := first.Clock()
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, hh, mm, ss, 0, loc) }
	var out []time.Time
	// Every period yields at least one candidate except a month without its
	// day (the 31st) or ordinal (a fifth Tuesday); 12 empty months in a
	// row cannot happen, so this bound only stops a rule that is exhausted.
	for period := 0; period < MaxSeriesDates*12*2; period++ {
		var days []time.Time
		switch r.freq {
		case "DAILY":
			t := at(y, m, d+period*r.interval)
			if len(r.byDay) == 0 || slices.ContainsFunc(r.byDay, func(b byDay) bool { return b.day == t.Weekday() }) {
				days = append(days, t)
			}
		case "WEEKLY":
			// Weeks start on Monday (WKST=MO).
			monday := d - (int(first.Weekday())+6)%7 + period*7*r.interval
			if len(r.byDay) == 0 {
				days = append(days, at(y, m, d+period*7*r.interval))
			}
			for _, b := range r.byDay {
				days = append(days, at(y, m, monday+(int(b.day)+6)%7))
			}
		case "MONTHLY":
			month := time.Date(y, m+time.Month(period*r.interval), 1, 0, 0, 0, 0, loc)
			days = monthDays(r.byDay, month.Year(), month.Month(), d, at)
		}
		slices.SortFunc(days, func(a, b time.Time) int { return a.Compare(b) })
		days = slices.Compact(days)
		for _, t := range days {
			if t.Before(first) {
				continue
			}
			if !r.until.IsZero() && t.After(r.until) {
				return out, r.checkFirst(out, first)
			}
			if len(out) == MaxSeriesDates {
				return nil, apperr.Field("rrule", "err.series_too_many", "Max", MaxSeriesDates)
			}
			out = append(out, t)
			if r.count > 0 && len(out) == r.count {
				return out, r.checkFirst(out, first)
			}
		}
	}
	return out, r.checkFirst(out, first)
}

// checkFirst refuses a first date the rule does not produce (a Monday for
// BYDAY=TU): RFC 5545 would count it anyway, and the organiser would get
// a date the rule does not describe.
func (r rule) checkFirst(out []time.Time, first time.Time) error {
	if len(out) == 0 || !out[0].Equal(first) {
		return apperr.Field("first.starts_at", "err.series_first")
	}
	return nil
}

// monthDays are the days of month y-m that the rule's BYDAY picks, or day
// dom when it has none (none in a month that has no such day).
func monthDays(by []byDay, y int, m time.Month, dom int, at func(int, time.Month, int) time.Time) []time.Time {
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if len(by) == 0 {
		if dom > last {
			return nil
		}
		return []time.Time{at(y, m, dom)}
	}
	var out []time.Time
	firstWd := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
	for _, b := range by {
		var all []int
		for day := 1 + (int(b.day)-int(firstWd)+7)%7; day <= last; day += 7 {
			all = append(all, day)
		}
		switch {
		case b.n == 0:
			for _, day := range all {
				out = append(out, at(y, m, day))
			}
		case b.n > 0 && b.n <= len(all):
			out = append(out, at(y, m, all[b.n-1]))
		case b.n < 0 && -b.n <= len(all):
			out = append(out, at(y, m, all[len(all)+b.n]))
		}
	}
	return out
}
