package notify_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/notify"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// clock is the notification worker's clock, set by the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func settings(t *testing.T, a *testapp.App, o *org.Org, mode, tz string) {
	t.Helper()
	en := "en"
	if _, err := a.Orgs.UpdateSettings(context.Background(), o.ID, org.SettingsInput{Notify: &mode, Lang: &en, Timezone: &tz}); err != nil {
		t.Fatal(err)
	}
}

func signUp(t *testing.T, a *testapp.App, slug string, i int) *registration.Registration {
	t.Helper()
	res, err := a.Registrations.SignUp(context.Background(), slug, registration.SignupInput{
		Name: fmt.Sprintf("P%04d", i), Email: fmt.Sprintf("p%04d@example.org", i), PartySize: 1, Lang: "de", Consent: true,
	})
	if err != nil {
		t.Errorf("sign-up %d: %v", i, err)
		return nil
	}
	return res.Registration
}

type notice struct {
	To, Subject, Text string
}

func notices(t *testing.T, a *testapp.App) []notice {
	t.Helper()
	var out []notice
	if err := a.DB.Select(&out, `SELECT recipient AS "to", subject, body_text AS text FROM mail_outbox WHERE kind = 'org_changes' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	return out
}

var signupsRE = regexp.MustCompile(`New registrations: (\d+)`)

// Issue 19: in the "each" mode a rush of 1,000 sign-ups over five minutes
// is a handful of mails — the first within a minute of the first sign-up,
// then at most one per 5 minutes — which together count every sign-up,
// and one of them says that the event filled up.
func TestEachModeTurnsARushIntoAHandfulOfMails(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	settings(t, a, o, org.NotifyEach, "Europe/Berlin")
	a.Event(t, o, "rush", func(in *event.Input) {
		in.Capacity = event.Some(900)
		yes := true
		in.Waitlist = &yes
	})
	clk := &clock{now: time.Now()}
	a.Notify.SetClock(clk.Now)
	ctx := context.Background()

	if n, err := a.Notify.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("a quiet event: %d mails, %v", n, err)
	}
	signUp(t, a, "rush", 0)
	clk.Add(20 * time.Second) // the next round
	if n, err := a.Notify.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("the first sign-up of a quiet event: %d mails, %v; want 1 within a minute", n, err)
	}
	// 999 more over five minutes, a round every 20 seconds.
	next := 1
	for round := range 15 {
		end := min(1+(round+1)*67, 1000)
		var sw sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i := next; i < end; i++ {
			sw.Add(1)
			sem <- struct{}{}
			go func() { defer func() { <-sem; sw.Done() }(); signUp(t, a, "rush", i) }()
		}
		sw.Wait()
		next = end
		clk.Add(20 * time.Second)
		if _, err := a.Notify.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if next != 1000 {
		t.Fatalf("signed up %d", next)
	}
	// After the rush the rest is summed up once the 5 minutes are over.
	clk.Add(5 * time.Minute)
	if _, err := a.Notify.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * time.Minute)
	if n, err := a.Notify.RunOnce(ctx); err != nil || n != 0 {
		t.Errorf("nothing changed, yet %d mails (%v)", n, err)
	}

	ns := notices(t, a)
	t.Logf("%d mails for 1,000 sign-ups", len(ns))
	if len(ns) < 2 || len(ns) > 5 {
		t.Fatalf("%d mails for a rush of 1,000 sign-ups, want a handful", len(ns))
	}
	total, full := 0, 0
	for _, n := range ns {
		if n.To != "info@miso.example" || !strings.Contains(n.Subject, "Workshop rush") {
			t.Errorf("mail to %s: %q", n.To, n.Subject)
		}
		m := signupsRE.FindStringSubmatch(n.Text)
		if m == nil {
			t.Errorf("mail without sign-ups:\n%s", n.Text)
			continue
		}
		k, _ := strconv.Atoi(m[1])
		total += k
		if strings.Contains(n.Text, "The event is full now.") {
			full++
		}
	}
	if total != 1000 {
		t.Errorf("the mails count %d sign-ups, want 1000", total)
	}
	if full != 1 {
		t.Errorf("%d mails say the event is full, want 1", full)
	}
	last := ns[len(ns)-1].Text
	if !strings.Contains(last, "Places left: 0") || !strings.Contains(last, "Waiting list: 100") || !strings.Contains(last, "/admin/orgs/miso/events/rush/registrations") {
		t.Errorf("the last mail lacks where the event stands:\n%s", last)
	}
}

// Issue 19: the daily digest goes out at 07:00 in the organisation's time
// zone, once a day, with each event that changed since the last one (new
// sign-ups, cancellations, places left, waiting list), and not at all when
// nothing changed.
func TestDailyDigestAtSevenInTheOrganisationsZone(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "faust")
	settings(t, a, o, org.NotifyDaily, "America/New_York")
	a.Event(t, o, "fest", func(in *event.Input) { in.Capacity = event.Some(10) })
	a.Event(t, o, "quiet", nil)
	ny, _ := time.LoadLocation("America/New_York")
	today := time.Now().In(ny)
	at := func(days int, h, m int) time.Time {
		return time.Date(today.Year(), today.Month(), today.Day()+days, h, m, 0, 0, ny)
	}
	clk := &clock{now: at(0, 6, 0)}
	a.Notify.SetClock(clk.Now)
	ctx := context.Background()
	run := func(when time.Time) int {
		t.Helper()
		clk.Set(when)
		n, err := a.Notify.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	run(at(0, 6, 0)) // watching starts
	var rs []*registration.Registration
	for i := range 3 {
		rs = append(rs, signUp(t, a, "fest", i))
	}
	if _, err := a.Registrations.Cancel(ctx, rs[0].ManageToken); err != nil {
		t.Fatal(err)
	}
	if n := run(at(0, 6, 59)); n != 0 {
		t.Errorf("before 07:00 New York time: %d digests", n)
	}
	if n := run(at(0, 7, 0)); n != 1 {
		t.Fatalf("at 07:00 New York time: %d digests, want 1", n)
	}
	if n := run(at(0, 7, 5)); n != 0 {
		t.Errorf("again the same morning: %d digests", n)
	}
	ns := notices(t, a)
	if len(ns) != 1 {
		t.Fatalf("%d digests", len(ns))
	}
	d := ns[0]
	for _, want := range []string{"Workshop fest", "New registrations: 3", "Cancelled: 1", "Places left: 8", "Waiting list: 0"} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("the digest lacks %q:\n%s", want, d.Text)
		}
	}
	if strings.Contains(d.Text, "Workshop quiet") || !strings.Contains(d.Subject, "daily summary") {
		t.Errorf("digest %q names the event without changes:\n%s", d.Subject, d.Text)
	}

	if n := run(at(1, 7, 1)); n != 0 {
		t.Errorf("a day without changes: %d digests", n)
	}
	signUp(t, a, "fest", 10)
	if n := run(at(1, 23, 0)); n != 0 {
		t.Errorf("later that day: %d digests", n)
	}
	if n := run(at(2, 7, 1)); n != 1 {
		t.Fatalf("the next morning: %d digests, want 1", n)
	}
	if ns = notices(t, a); !strings.Contains(ns[1].Text, "New registrations: 1\n") || strings.Contains(ns[1].Text, "Cancelled") {
		t.Errorf("the second digest:\n%s", ns[1].Text)
	}
}

// apply signs up for an event with selection by approval: an application.
func apply(t *testing.T, a *testapp.App, slug string, i int) *registration.Registration {
	t.Helper()
	r := signUp(t, a, slug, i)
	if r == nil || r.Status != registration.Applied {
		t.Fatalf("application %d: %+v", i, r)
	}
	return r
}

func approvalEvent(capacity int) func(in *event.Input) {
	return func(in *event.Input) {
		yes, no := true, false
		in.Approval, in.Waitlist, in.Capacity = &yes, &no, event.Some(capacity)
	}
}

func wantLines(t *testing.T, what, text string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
	for _, n := range not {
		if strings.Contains(text, n) {
			t.Errorf("%s says %q:\n%s", what, n, text)
		}
	}
}

// Issue 19: on an event with selection by approval a sign-up is an
// application, not a sign-up. The "each" mode reports new applications
// apart ("New applications: 3"), then the organisers' approvals and
// declines — an approval is no new sign-up — with the places left as the
// approvals take them and the applications still open.
func TestEachModeReportsApplicationsApartFromSignUps(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "loccum")
	settings(t, a, o, org.NotifyEach, "Europe/Berlin")
	e := a.Event(t, o, "weekend", approvalEvent(2))
	clk := &clock{now: time.Now()}
	a.Notify.SetClock(clk.Now)
	ctx := context.Background()
	run := func(d time.Duration) int {
		t.Helper()
		clk.Add(d)
		n, err := a.Notify.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	run(0)
	rs := []*registration.Registration{apply(t, a, "weekend", 0), apply(t, a, "weekend", 1), apply(t, a, "weekend", 2)}
	if n := run(20 * time.Second); n != 1 {
		t.Fatalf("three applications: %d mails, want 1", n)
	}
	ns := notices(t, a)
	wantLines(t, "the mail about applications", ns[0].Text,
		[]string{"New applications: 3", "Places left: 2", "Applications awaiting a decision: 3"},
		[]string{"New registrations", "approved", "full"})

	for _, r := range rs[:2] {
		if _, err := a.Registrations.Approve(ctx, e.ID, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Registrations.Decline(ctx, e.ID, rs[2].ID, nil); err != nil {
		t.Fatal(err)
	}
	if n := run(20 * time.Second); n != 0 {
		t.Errorf("within 5 minutes of the last mail: %d mails", n)
	}
	if n := run(notify.Gather); n != 1 {
		t.Fatalf("the decisions: %d mails, want 1", n)
	}
	ns = notices(t, a)
	wantLines(t, "the mail about decisions", ns[1].Text,
		[]string{"Applications approved: 2", "Applications declined: 1", "The event is full now.", "Places left: 0", "Applications awaiting a decision: 0"},
		[]string{"New registrations", "New applications"})
	if n := run(notify.Gather); n != 0 {
		t.Errorf("nothing changed, yet %d mails", n)
	}
}

// Issue 19: the daily digest counts an approval event's applications and
// decisions apart from another event's sign-ups, with the places left.
func TestDailyDigestCountsApplicationsApart(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	settings(t, a, o, org.NotifyDaily, "Europe/Berlin")
	e := a.Event(t, o, "select", approvalEvent(5))
	a.Event(t, o, "open", func(in *event.Input) { in.Capacity = event.Some(10) })
	berlin, _ := time.LoadLocation("Europe/Berlin")
	today := time.Now().In(berlin)
	at := func(days, h int) time.Time {
		return time.Date(today.Year(), today.Month(), today.Day()+days, h, 0, 0, 0, berlin)
	}
	clk := &clock{now: at(0, 6)}
	a.Notify.SetClock(clk.Now)
	ctx := context.Background()
	if _, err := a.Notify.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	first := apply(t, a, "select", 0)
	apply(t, a, "select", 1)
	if _, err := a.Registrations.Approve(ctx, e.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	signUp(t, a, "open", 2)
	clk.Set(at(0, 7))
	if n, err := a.Notify.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("at 07:00: %d digests, %v", n, err)
	}
	d := notices(t, a)[0].Text
	i, j := strings.Index(d, "Workshop select"), strings.Index(d, "Workshop open")
	if i < 0 || j < 0 {
		t.Fatalf("the digest lacks an event:\n%s", d)
	}
	sel, opn := d[i:], d[j:]
	if i < j {
		sel = d[i:j]
	} else {
		opn = d[j:i]
	}
	wantLines(t, "the approval event in the digest", sel,
		[]string{"New applications: 2", "Applications approved: 1", "Places left: 4", "Applications awaiting a decision: 1"},
		[]string{"New registrations"})
	wantLines(t, "the open event in the digest", opn,
		[]string{"New registrations: 1", "Places left: 9"},
		[]string{"applications", "Applications"})
}
