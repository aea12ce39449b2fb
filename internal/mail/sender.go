package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	gomail "github.com/wneessen/go-mail"

	"treffpunkt/internal/config"
)

// Sender sends the outbox. It claims due messages in batches, sends a batch
// over one SMTP connection, and records each message's fate in its own small
// commit right after the server's answer, so a crash can repeat at most the
// one message whose OK had arrived but was not yet recorded (docs/mail.md).
// Any number of senders may run, in one process or many.
type Sender struct {
	DB *sqlx.DB
	// Outbox renders the participants' messages when they are sent.
	Outbox *Outbox
	// SMTP is the server; nil is dev mode: each message is logged (kind and
	// recipient's domain only, never a link) and marked sent.
	SMTP *config.SMTP
	From string
	Log  *slog.Logger
	// Remind writes the reminders that are due; Run calls it every
	// RemindEvery.
	Remind      func(ctx context.Context) error
	RemindEvery time.Duration

	// Poll is the pause when the outbox is empty; a full batch is followed
	// by the next at once.
	Poll  time.Duration
	Batch int
	// A message the server refused for now (4xx) waits Backoff·2^(n-1)
	// after its n-th attempt, at most MaxBackoff, and is given up after
	// MaxAttempts attempts. A server that cannot be reached counts against
	// no message: the sender waits Poll·2^n, at most ConnBackoffMax, and
	// tries again, for as long as it takes.
	Backoff        time.Duration
	MaxBackoff     time.Duration
	MaxAttempts    int
	ConnBackoffMax time.Duration
	// Lease is how long a claimed message is left to its sender before
	// another may take it (the first one died). A sender stops working on a
	// batch after half of it, so a live sender never sends a message that
	// another may have taken.
	Lease time.Duration
	// Timeout bounds connecting and each SMTP command.
	Timeout time.Duration
	// The server's OKs are recorded together: up to SentGroup messages,
	// or those that have waited SentWait, per commit, and all of them
	// before the batch ends (docs/mail.md: the window this leaves). 0 and
	// 0 record each message on its own.
	SentGroup int
	SentWait  time.Duration
	// Succeeded, when set, is called after each round that ended without
	// error (for the metrics' last-success time).
	Succeeded func()
}

// NewSender returns a sender with the production settings; o renders the
// messages.
func NewSender(db *sqlx.DB, o *Outbox, cfg *config.Config, log *slog.Logger) *Sender {
	return &Sender{
		DB: db, Outbox: o, SMTP: cfg.SMTP, From: cfg.MailFrom, Log: log,
		RemindEvery: time.Minute, Poll: time.Second, Batch: 50,
		Backoff: 30 * time.Second, MaxBackoff: time.Hour, MaxAttempts: 10,
		ConnBackoffMax: time.Minute, Lease: 5 * time.Minute, Timeout: 30 * time.Second,
		SentGroup: 25, SentWait: 20 * time.Millisecond,
	}
}

// Run sends until ctx ends. Then the message on the wire is finished and
// recorded, and the rest of its batch is given back to the queue.
func (s *Sender) Run(ctx context.Context) {
	mode := "dev mode: mail is logged, not sent"
	if s.SMTP != nil {
		mode = s.SMTP.String()
	}
	s.Log.Info("mail sender started", "smtp", mode)
	connFailures := 0
	var nextRemind time.Time
	for ctx.Err() == nil {
		if s.Remind != nil && !time.Now().Before(nextRemind) {
			if err := s.Remind(ctx); err != nil && ctx.Err() == nil {
				s.Log.Error("reminders", "err", err)
			}
			nextRemind = time.Now().Add(s.RemindEvery)
		}
		n, err := s.SendBatch(ctx)
		wait := s.Poll
		var ce *connError
		switch {
		case errors.As(err, &ce):
			connFailures++
			wait = min(s.Poll<<min(connFailures, 16), s.ConnBackoffMax)
			if ctx.Err() == nil { // else the shutdown broke the connection
				s.Log.Warn("mail server unavailable; mail stays queued", "err", err, "retry_in", wait.String())
			}
		case err != nil:
			s.Log.Error("mail sender", "err", err)
		default:
			connFailures = 0
			if s.Succeeded != nil {
				s.Succeeded()
			}
			if n == s.Batch {
				wait = 0
			}
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
	s.Log.Info("mail sender stopped")
}

// connError is trouble with the mail server rather than with one message:
// the batch ends and the sender backs off.
type connError struct{ err error }

func (e *connError) Error() string { return e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// unavailable is what organisers see on mail that waits for the server.
const unavailable = "mail server unavailable; will retry"

// SendBatch claims one batch and sends it; it returns how many messages it
// claimed. A *connError (see errors.As) means the server could not be
// reached or gave up on the connection; the batch's untried messages are
// back in the queue.
func (s *Sender) SendBatch(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	msgs, err := claim(ctx, s.DB, s.Batch, s.Lease)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	claimedAt := time.Now()
	// What happened is recorded even while shutting down.
	rec := context.WithoutCancel(ctx)
	if s.SMTP == nil {
		for _, q := range msgs {
			s.Log.Info("mail (dev mode, not sent)", "id", q.ID, "kind", q.Kind, "lang", q.Lang, "to_domain", domain(q.Recipient))
		}
		return len(msgs), markSent(rec, s.DB, ids(msgs)...)
	}
	// What the messages are rendered from, read once for the batch: the
	// registrations, their tickets and the events as they are now.
	if s.Outbox == nil {
		return len(msgs), errors.Join(errors.New("mail sender: no outbox to render with"), release(rec, s.DB, ids(msgs), 0, ""))
	}
	src, err := s.Outbox.load(ctx, s.DB, msgs)
	if err != nil {
		return len(msgs), errors.Join(err, release(rec, s.DB, ids(msgs), 0, ""))
	}
	c, err := s.dial(ctx)
	if err != nil {
		return len(msgs), errors.Join(&connError{err}, release(rec, s.DB, ids(msgs), 0, unavailable))
	}
	defer c.Close()
	built := s.buildAhead(msgs, src)
	defer built.stop()
	sent := &sentLog{db: s.DB, group: s.SentGroup, wait: s.SentWait}
	err = s.sendAll(ctx, rec, c, msgs, built, sent, claimedAt)
	// Whatever ended the batch, the OKs received are recorded.
	return len(msgs), errors.Join(sent.flush(rec), err)
}

// sendAll sends a batch's messages in order over c until they are done, the
// connection is no good, the database fails or half the lease has passed;
// the untried ones go back to the queue.
func (s *Sender) sendAll(ctx, rec context.Context, c *gomail.Client, msgs []queued, built *builder, sent *sentLog, claimedAt time.Time) error {
	for i := range msgs {
		if ctx.Err() != nil || time.Since(claimedAt) > s.Lease/2 {
			return release(rec, s.DB, ids(msgs[i:]), 0, "")
		}
		stop, err := s.send(rec, c, &msgs[i], <-built.ready[i], sent)
		if err != nil {
			// The database failed us: the rest waits for its lease to end.
			return err
		}
		if stop != nil {
			return errors.Join(stop, release(rec, s.DB, ids(msgs[i+1:]), 0, unavailable))
		}
	}
	return nil
}

// sentLog holds the messages the server took that are not yet recorded as
// sent. A crash before flush sends them again after their lease (at least
// once, never lost); a group is small and young by construction.
type sentLog struct {
	db    *sqlx.DB
	group int
	wait  time.Duration
	ids   []int64
	first time.Time
}

func (l *sentLog) add(ctx context.Context, id int64) error {
	if len(l.ids) == 0 {
		l.first = time.Now()
	}
	l.ids = append(l.ids, id)
	if len(l.ids) >= l.group || time.Since(l.first) >= l.wait {
		return l.flush(ctx)
	}
	return nil
}

func (l *sentLog) flush(ctx context.Context) error {
	err := markSent(ctx, l.db, l.ids...)
	l.ids = l.ids[:0]
	return err
}

// built is a message made ready for the wire.
type built struct {
	m   *gomail.Msg
	err error
}

// builder builds a batch's messages ahead of the sending, on every core:
// rendering the texts, drawing the QR codes and writing the MIME cost about
// as much time as a message's SMTP exchange and its commit, so the two
// overlap.
type builder struct {
	ready []chan built // ready[i] receives msgs[i]
	quit  chan struct{}
}

func (s *Sender) buildAhead(msgs []queued, src *sources) *builder {
	b := &builder{ready: make([]chan built, len(msgs)), quit: make(chan struct{})}
	next := make(chan int, len(msgs))
	for i := range msgs {
		b.ready[i] = make(chan built, 1)
		next <- i
	}
	close(next)
	for range min(runtime.GOMAXPROCS(0), len(msgs)) {
		go func() {
			for i := range next {
				select {
				case <-b.quit:
					return
				default:
				}
				var m *gomail.Msg
				// The keys were loaded with the batch (load): no query here.
				c, err := s.Outbox.contentOf(context.Background(), &msgs[i], src)
				if err == nil {
					m, err = build(&msgs[i], c, s.From)
				}
				b.ready[i] <- built{m, err}
			}
		}()
	}
	return b
}

func (b *builder) stop() { close(b.quit) }

// send sends one built message over c and records the outcome. stop is set
// when the connection is no good for the rest of the batch; err when
// recording failed.
func (s *Sender) send(ctx context.Context, c *gomail.Client, q *queued, b built, sent *sentLog) (stop, err error) {
	if b.err != nil {
		s.Log.Error("mail cannot be built", "id", q.ID, "kind", q.Kind, "to_domain", domain(q.Recipient), "err", b.err)
		return nil, markFailed(ctx, s.DB, q.ID, b.err.Error())
	}
	m := b.m
	sendErr := c.Send(m)
	if m.IsDelivered() {
		// The server took it; the commit of its group closes the
		// at-least-once window.
		return nil, sent.add(ctx, q.ID)
	}
	verdict, reason := classify(sendErr)
	// Servers quote the recipient in their answers ("<a@b>: user
	// unknown"); the reason goes into the log and the outbox, which keep
	// no addresses (docs/mail.md).
	reason = q.redact(reason)
	if sendErr != nil {
		sendErr = &redacted{msg: q.redact(sendErr.Error()), err: sendErr}
	}
	switch verdict {
	case refused:
		s.Log.Warn("mail refused", "id", q.ID, "kind", q.Kind, "to_domain", domain(q.Recipient), "reason", reason)
		return nil, markFailed(ctx, s.DB, q.ID, reason)
	case deferred:
		return nil, s.retry(ctx, q, reason)
	case ambiguous:
		// The connection broke after the message was handed over: the
		// server may have it. Retrying may repeat it (docs/mail.md).
		return &connError{sendErr}, s.retry(ctx, q, reason)
	default: // untried
		return &connError{sendErr}, release(ctx, s.DB, []int64{q.ID}, 0, unavailable)
	}
}

// retry queues a deferred message again after its backoff, or gives it up
// after MaxAttempts.
func (s *Sender) retry(ctx context.Context, q *queued, reason string) error {
	if q.Attempts >= s.MaxAttempts {
		s.Log.Warn("mail given up", "id", q.ID, "kind", q.Kind, "to_domain", domain(q.Recipient), "attempts", q.Attempts, "reason", reason)
		return markFailed(ctx, s.DB, q.ID, fmt.Sprintf("%s (gave up after %d attempts)", reason, q.Attempts))
	}
	return retryLater(ctx, s.DB, q.ID, s.backoff(q.Attempts), reason)
}

// backoff is Backoff·2^(attempt-1), at most MaxBackoff.
func (s *Sender) backoff(attempt int) time.Duration {
	d := s.Backoff << min(max(attempt-1, 0), 30)
	if d <= 0 || d > s.MaxBackoff {
		return s.MaxBackoff
	}
	return d
}

type verdict int

const (
	untried   verdict = iota // not handed over: try again as soon as the server is back, no attempt counted
	deferred                 // refused for now (4xx): back off, count the attempt
	refused                  // refused for good (5xx): failed, no retry
	ambiguous                // connection lost after the data: count the attempt and retry
)

// classify sorts a failed send. 5xx refuses the message for good, except at
// MAIL FROM, where it refuses our sender address or account, which no
// message can help: that waits like an unreachable server.
func classify(err error) (verdict, string) {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return untried, fmt.Sprint(err)
	}
	reason := se.Error()
	if i := strings.Index(reason, ", affected"); i > 0 {
		reason = reason[:i]
	}
	code := se.ErrorCode()
	switch {
	case code >= 500 && se.Reason == gomail.ErrSMTPMailFrom:
		return untried, reason
	case code >= 500:
		return refused, reason
	case code == 421: // the server is closing the connection
		return untried, reason
	case code >= 400:
		return deferred, reason
	case se.Reason == gomail.ErrSMTPDataClose || se.Reason == gomail.ErrWriteContent:
		return ambiguous, reason
	default:
		return untried, reason
	}
}

func (s *Sender) dial(ctx context.Context) (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(s.SMTP.Port), gomail.WithTimeout(s.Timeout),
		// One round trip per message fewer each: no NOOP before, no RSET
		// after (a finished DATA already resets the transaction).
		gomail.WithoutNoop(), gomail.WithoutRset(),
	}
	switch s.SMTP.TLS {
	case config.TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case config.TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.SMTP.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.SMTP.Username), gomail.WithPassword(s.SMTP.Password))
	}
	c, err := gomail.NewClient(s.SMTP.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail client: %w", err)
	}
	if err := c.DialWithContext(ctx); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.SMTP.Addr(), err)
	}
	return c, nil
}

func ids(qs []queued) []int64 {
	out := make([]int64, len(qs))
	for i, q := range qs {
		out[i] = q.ID
	}
	return out
}

// domain is the part of an address after the @: enough to see where mail
// goes without logging who gets it.
func domain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "?"
}

// redact replaces the recipient's address and name in a text from the
// mail server or the mail library.
func (q *queued) redact(s string) string {
	for _, p := range []string{q.Recipient, q.RecipientName} {
		// Shorter names would blank common words of the server's answer.
		if utf8.RuneCountInString(p) >= 3 {
			s = regexp.MustCompile(`(?i)`+regexp.QuoteMeta(p)).ReplaceAllLiteralString(s, "[recipient]")
		}
	}
	return s
}

// redacted is an error whose text names no recipient; errors.As still
// finds the library's error inside.
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }
