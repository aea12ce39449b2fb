// Command smtpsink is the SMTP server of `make bench` (scripts/bench.sh): it
// accepts every message on -addr and throws it away, so that the app's mail
// sender does its whole job — render, hand over, record "sent" — while the
// benchmark counts only the app's CPU. It prints how many messages it took
// when it is stopped (SIGINT or SIGTERM).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18145", "host:port to listen on")
	flag.Parse()
	var taken atomic.Int64
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{taken: &taken}, nil
	}))
	srv.Addr = *addr
	srv.Domain = "smtpsink.localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.MaxMessageBytes = 10 << 20

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "smtpsink:", err)
		os.Exit(1)
	case <-ctx.Done():
	}
	_ = srv.Close()
	fmt.Printf("smtpsink: %d messages accepted\n", taken.Load())
}

// session accepts any sender and recipient without looking at them.
type session struct{ taken *atomic.Int64 }

func (*session) Mail(string, *smtp.MailOptions) error { return nil }
func (*session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (*session) Reset()                               {}
func (*session) Logout() error                        { return nil }
func (s *session) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.taken.Add(1)
	return nil
}
