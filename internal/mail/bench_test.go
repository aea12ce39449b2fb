package mail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/config"
	"treffpunkt/internal/mail/mailtest"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testdb"
)

// BenchmarkOutboxDrain enqueues 2,000 confirmations (each with its
// tickets' QR codes and a calendar entry, as the preview's sample) and times
// how fast one sender drains them into an in-process SMTP server:
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
	srv := mailtest.Start(b)
	s := NewSender(db, &config.Config{MailFrom: "Treffpunkt <noreply@treffpunkt.example>",
		SMTP: &config.SMTP{Host: srv.Host, Port: srv.Port, TLS: config.TLSNone}}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		enqueue(b, db, o, n, tickets)
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

// BenchmarkCompose is what enqueueing adds to a sign-up's transaction in
// CPU: rendering the text and HTML and the calendar entry.
func BenchmarkCompose(b *testing.B) {
	o := testOutbox(b, "de")
	n, r := sample(registration.MailConfirmed, "de", time.Now())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := o.compose(n, r, map[string]string{}); err != nil {
			b.Fatal(err)
		}
	}
}

func enqueue(tb testing.TB, db *sqlx.DB, o *Outbox, count, tickets int) {
	tb.Helper()
	n, r := sample(registration.MailConfirmed, "de", time.Now())
	r.PartySize, r.Tickets = tickets, r.Tickets[:tickets]
	msgs := make([]message, count)
	for i := range msgs {
		m, err := o.compose(n, r, map[string]string{})
		if err != nil {
			tb.Fatal(err)
		}
		m.Recipient = fmt.Sprintf("p%d@example.org", i)
		m.RegistrationID, m.EventID = nil, nil
		msgs[i] = *m
	}
	tx, err := db.Beginx()
	if err != nil {
		tb.Fatal(err)
	}
	if err := insert(context.Background(), tx, msgs); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}
