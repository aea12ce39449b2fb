package mail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testdb"
)

// BenchmarkOutboxDrain signs 2,000 people up (each confirmation with its
// tickets' QR codes and a calendar entry) and times how fast one sender
// renders and drains them into an in-process SMTP server:
// docs/performance.md.
func BenchmarkOutboxDrain(b *testing.B) {
	for _, tickets := range []int{1, 2} {
		b.Run(fmt.Sprintf("tickets=%d", tickets), func(b *testing.B) { benchDrain(b, tickets) })
	}
}

func benchDrain(b *testing.B, tickets int) {
	const n = 2000
	db := testdb.New(b)
	o := testOutbox(b, "de")
	f := newFixture(b, db, o)
	srv := mailtest.Start(b)
	s := NewSender(db, o, &config.Config{MailFrom: "Treffpunkt <noreply@treffpunkt.example>",
		SMTP: &config.SMTP{Host: srv.Host, Port: srv.Port, TLS: config.TLSNone}}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f.signUp(b, fmt.Sprintf("drain%d", i), n, tickets)
		before := len(srv.Received())
		b.StartTimer()
		start := time.Now()
		for {
			got, err := s.SendBatch(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if got == 0 {
				break
			}
		}
		total += time.Since(start)
		if sent := len(srv.Received()) - before; sent != n {
			b.Fatalf("drained %d, want %d", sent, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
}

// BenchmarkCompose is the CPU of rendering one confirmation with two
// tickets: text, HTML and the calendar entry. The sender does it when it
// sends; until migration 00011 it was done inside the sign-up's
// transaction.
func BenchmarkCompose(b *testing.B) {
	o := testOutbox(b, "de")
	n, r := sample(registration.MailConfirmed, "de", time.Now())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := o.compose(n, r, newCalendars()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnqueue is what a notice adds to the change's transaction, per
// message: "statement" is the Go CPU of building the rows (Message-ID,
// payload, placeholders), "db" the whole Enqueue, its INSERT included, in a
// transaction that is rolled back (no commit: that is the change's own).
func BenchmarkEnqueue(b *testing.B) {
	o := testOutbox(b, "de")
	for _, size := range []int{1, 50} {
		b.Run(fmt.Sprintf("statement/regs=%d", size), func(b *testing.B) {
			n, r := sample(registration.MailConfirmed, "de", time.Now())
			n.Registrations = repeat(r, size)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := o.enqueueStatement(context.Background(), n, n.Registrations); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/msg")
		})
	}
	db := testdb.New(b)
	o.db = db
	f := newFixture(b, db, o)
	regs := f.signUp(b, "enqueue", 50, 2)
	for _, size := range []int{1, 50} {
		b.Run(fmt.Sprintf("db/regs=%d", size), func(b *testing.B) {
			n := registration.Notice{Kind: registration.MailConfirmed, Event: f.event, Registrations: regs[:size]}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tx, err := db.Beginx()
				if err != nil {
					b.Fatal(err)
				}
				if err := o.Enqueue(ctx, tx, n); err != nil {
					b.Fatal(err)
				}
				if err := tx.Rollback(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/msg")
		})
	}
}

func repeat(r *registration.Registration, n int) []*registration.Registration {
	out := make([]*registration.Registration, n)
	for i := range out {
		out[i] = r
	}
	return out
}

// fixture is an organisation and a published event of unlimited capacity
// (the preview's sample festival) that people sign up for.
type fixture struct {
	regs  *registration.Service
	event *event.Event
}

func newFixture(tb testing.TB, db *sqlx.DB, o *Outbox) *fixture {
	tb.Helper()
	ctx := context.Background()
	og, err := org.New(db).Create(ctx, org.Org{Slug: "faust", Name: "FAUST e. V.", Email: "info@faust.example"})
	if err != nil {
		tb.Fatal(err)
	}
	s, _ := sample(registration.MailConfirmed, "de", time.Now())
	e := s.Event
	slug, kind, pub, party := e.Slug, e.Kind, event.Published, 4
	ev, err := event.New(event.Options{DB: db}).Create(ctx, og.ID, event.Input{
		Slug: &slug, Kind: &kind, Status: &pub, Title: e.Title, Description: e.Description,
		StartsAt: &e.StartsAt, EndsAt: &e.EndsAt, Venue: &e.Venue, MaxPartySize: &party,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{regs: registration.New(registration.Options{DB: db, Mailer: o}), event: ev}
}

// signUp signs count people up with party size tickets, 32 at a time (the
// service writes concurrent sign-ups in batches), and returns them.
func (f *fixture) signUp(tb testing.TB, prefix string, count, tickets int) []*registration.Registration {
	tb.Helper()
	out := make([]*registration.Registration, count)
	next := make(chan int, count)
	for i := range count {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	errs := make(chan error, count)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				res, err := f.regs.SignUp(context.Background(), f.event.Slug, registration.SignupInput{
					Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("%s-%d@example.org", prefix, i),
					PartySize: tickets, Lang: "de", Consent: true,
				})
				if err != nil {
					errs <- err
					continue
				}
				out[i] = res.Registration
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return out
}
