package checkin

import (
	"testing"
	"time"
)

// A scanner delivers the bare code or the URL the QR code carries.
func TestTicketCodeReadsBareCodesAndTicketURLs(t *testing.T) {
	t.Parallel()
	const code = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for _, in := range []string{
		code, " " + code + "\n", "https://treffpunkt.example/t/" + code,
		"https://treffpunkt.example/t/" + code + "/", "https://treffpunkt.example/t/" + code + "?lang=en#x",
		"http://127.0.0.1:8080/t/" + code + "/qr.svg",
	} {
		if got := ticketCode(in); got != code {
			t.Errorf("ticketCode(%q) = %q", in, got)
		}
	}
}

// The small hours belong to the evening before once the event has begun;
// an event that ends at 02:00 has one day.
func TestEventDayRunsUntilSixInTheMorning(t *testing.T) {
	t.Parallel()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 7, 10, 20, 0, 0, 0, berlin)
	end := time.Date(2026, 7, 11, 2, 0, 0, 0, berlin)
	first, last := eventDays(start, end, berlin)
	if !first.Equal(last) {
		t.Errorf("a night event spans %v–%v, want one day", first, last)
	}
	for at, want := range map[time.Time]string{
		time.Date(2026, 7, 10, 19, 0, 0, 0, berlin): "2026-07-10",
		time.Date(2026, 7, 11, 1, 30, 0, 0, berlin): "2026-07-10",
		time.Date(2026, 7, 11, 9, 0, 0, 0, berlin):  "2026-07-11",
		time.Date(2026, 7, 10, 3, 0, 0, 0, berlin):  "2026-07-10",
	} {
		if got := EventDay(at, start, berlin).Format(dayLayout); got != want {
			t.Errorf("EventDay(%v) = %s, want %s", at, got, want)
		}
	}
	festEnd := time.Date(2026, 7, 12, 23, 0, 0, 0, berlin)
	e := &Event{StartsAt: start, EndsAt: festEnd, Timezone: "Europe/Berlin"}
	if got := e.Days(); len(got) != 3 || got[0] != "2026-07-10" || got[2] != "2026-07-12" {
		t.Errorf("festival days %v", got)
	}
}
