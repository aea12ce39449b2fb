package event

import (
	"slices"
	"testing"
	"time"

	"treffpunkt/internal/apperr"
)

func expandIn(t *testing.T, rrule, first string) ([]time.Time, error) {
	t.Helper()
	loc := Zone("Europe/Berlin")
	start, err := time.ParseInLocation("2006-01-02 15:04", first, loc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseRule(rrule, loc)
	if err != nil {
		return nil, err
	}
	return r.expand(start, loc)
}

func days(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format("2006-01-02 15:04 -0700")
	}
	return out
}

func TestRuleExpansion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, rule, first string
		want              []string
	}{
		// 2027-03-28 is the last Sunday of March: Berlin goes to summer time.
		{"weekly across summer time keeps 19:00", "FREQ=WEEKLY;BYDAY=TU;COUNT=3", "2027-03-23 19:00",
			[]string{"2027-03-23 19:00 +0100", "2027-03-30 19:00 +0200", "2027-04-06 19:00 +0200"}},
		{"back to winter time", "FREQ=WEEKLY;COUNT=2", "2027-10-26 19:00",
			[]string{"2027-10-26 19:00 +0200", "2027-11-02 19:00 +0100"}},
		{"interval", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=3", "2027-01-05 19:00",
			[]string{"2027-01-05 19:00 +0100", "2027-01-19 19:00 +0100", "2027-02-02 19:00 +0100"}},
		{"two weekdays", "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4", "2027-01-05 18:30",
			[]string{"2027-01-05 18:30 +0100", "2027-01-07 18:30 +0100", "2027-01-12 18:30 +0100", "2027-01-14 18:30 +0100"}},
		{"until a date includes that day", "FREQ=DAILY;UNTIL=20270103", "2027-01-01 10:00",
			[]string{"2027-01-01 10:00 +0100", "2027-01-02 10:00 +0100", "2027-01-03 10:00 +0100"}},
		{"until in UTC", "FREQ=DAILY;INTERVAL=3;UNTIL=20270107T090000Z", "2027-01-01 10:00",
			[]string{"2027-01-01 10:00 +0100", "2027-01-04 10:00 +0100", "2027-01-07 10:00 +0100"}},
		{"daily on weekdays", "FREQ=DAILY;BYDAY=MO,FR;COUNT=3", "2027-01-01 10:00",
			[]string{"2027-01-01 10:00 +0100", "2027-01-04 10:00 +0100", "2027-01-08 10:00 +0100"}},
		{"monthly second Tuesday", "FREQ=MONTHLY;BYDAY=2TU;COUNT=3", "2027-01-12 19:00",
			[]string{"2027-01-12 19:00 +0100", "2027-02-09 19:00 +0100", "2027-03-09 19:00 +0100"}},
		{"monthly last Sunday across summer time", "FREQ=MONTHLY;BYDAY=-1SU;COUNT=2", "2027-02-28 19:00",
			[]string{"2027-02-28 19:00 +0100", "2027-03-28 19:00 +0200"}},
		{"monthly on the 31st skips short months", "FREQ=MONTHLY;COUNT=3", "2027-01-31 19:00",
			[]string{"2027-01-31 19:00 +0100", "2027-03-31 19:00 +0200", "2027-05-31 19:00 +0200"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := expandIn(t, c.rule, c.first)
			if err != nil {
				t.Fatal(err)
			}
			if g := days(got); !slices.Equal(g, c.want) {
				t.Fatalf("got %v\nwant %v", g, c.want)
			}
		})
	}
}

func TestRuleRefusalsNameThePart(t *testing.T) {
	t.Parallel()
	cases := []struct{ rule, first, field, msg string }{
		{"FREQ=YEARLY;COUNT=2", "2027-01-05 19:00", "rrule", "err.rrule_part"},
		{"FREQ=WEEKLY", "2027-01-05 19:00", "rrule", "err.rrule_part"},
		{"FREQ=WEEKLY;COUNT=2;UNTIL=20270301", "2027-01-05 19:00", "rrule", "err.rrule_part"},
		{"FREQ=WEEKLY;BYDAY=XX;COUNT=2", "2027-01-05 19:00", "rrule", "err.rrule_part"},
		{"FREQ=WEEKLY;BYDAY=2TU;COUNT=2", "2027-01-05 19:00", "rrule", "err.rrule_part"},
		{"FREQ=WEEKLY;INTERVAL=0;COUNT=2", "2027-01-05 19:00", "rrule", "err.rrule_part"},
		{"FREQ=WEEKLY;BYSETPOS=1;COUNT=2", "2027-01-05 19:00", "rrule", "err.rrule_part"},
		{"FREQ=WEEKLY;COUNT=101", "2027-01-05 19:00", "rrule", "err.series_too_many"},
		{"FREQ=DAILY;UNTIL=20300101", "2027-01-05 19:00", "rrule", "err.series_too_many"},
		{"FREQ=WEEKLY;BYDAY=MO;COUNT=2", "2027-01-05 19:00", "first.starts_at", "err.series_first"},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			_, err := expandIn(t, c.rule, c.first)
			ae := apperr.From(err)
			if err == nil || ae.Code != apperr.Invalid || ae.Fields[c.field].ID != c.msg {
				t.Fatalf("%v, want %s on %s", err, c.msg, c.field)
			}
		})
	}
}
