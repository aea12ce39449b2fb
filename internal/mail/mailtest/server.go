// Package mailtest is a real SMTP server in the test process
// (emersion/go-smtp) that records what it accepts, can refuse recipients,
// answer 421 or be down, and a MIME reader for the recorded messages.
package mailtest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From string
	To   []string
	Data []byte
}

// Server records every message it accepts.
type Server struct {
	Addr string // 127.0.0.1:port
	Host string
	Port int

	mu       sync.Mutex
	received []Received
	arrived  chan struct{}
	srv      *smtp.Server
	ln       net.Listener
	reject   bool
	rcpt     func(to string) error
	accepted func(n int, c *smtp.Conn)
}

// Start runs a server on a free loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{}, 1)}
	if err := s.listen("127.0.0.1:0"); err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	t.Cleanup(s.Down)
	return s
}

// Reserve returns a server that is down: its port was free a moment ago and
// nothing listens on it until Up.
func Reserve(t testing.TB) *Server {
	s := Start(t)
	s.Down()
	return s
}

func (s *Server) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	tcp := ln.Addr().(*net.TCPAddr)
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c}, nil
	}))
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.AllowInsecureAuth = true
	s.mu.Lock()
	s.Addr, s.Host, s.Port, s.srv, s.ln = tcp.String(), tcp.IP.String(), tcp.Port, srv, ln
	s.mu.Unlock()
	go srv.Serve(&gate{Listener: ln, s: s}) //nolint:errcheck // ends with Down
	return nil
}

// Down stops listening and drops every connection: senders get "connection
// refused".
func (s *Server) Down() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// Closing the listener ourselves: Serve may not have taken it yet,
		// and then srv.Close alone would leave it open.
		ln.Close()
		srv.Close()
	}
}

// Up listens again on the same address.
func (s *Server) Up(t testing.TB) {
	t.Helper()
	if err := s.listen(s.Addr); err != nil {
		t.Fatalf("mailtest: up again: %v", err)
	}
}

// Answer421 makes the server greet every new connection with "421 service
// not available" and hang up (true), or serve again (false).
func (s *Server) Answer421(on bool) {
	s.mu.Lock()
	s.reject = on
	s.mu.Unlock()
}

// RefuseRcpt lets f decide on each recipient: a non-nil error (an
// *smtp.SMTPError for a given code) refuses it.
func (s *Server) RefuseRcpt(f func(to string) error) {
	s.mu.Lock()
	s.rcpt = f
	s.mu.Unlock()
}

// AfterAccept calls f after the server has taken its n-th message (1-based,
// counted over the server's life), before it answers OK.
func (s *Server) AfterAccept(f func(n int, c *smtp.Conn)) {
	s.mu.Lock()
	s.accepted = f
	s.mu.Unlock()
}

// Received returns what the server has accepted so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Wait returns once n messages have arrived, or fails the test after
// timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if got := s.Received(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("mailtest: %d messages after %s, want %d", len(s.Received()), timeout, n)
		}
	}
}

// gate answers 421 instead of serving while the server rejects.
type gate struct {
	net.Listener
	s *Server
}

func (g *gate) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		g.s.mu.Lock()
		reject := g.s.reject
		g.s.mu.Unlock()
		if !reject {
			return c, nil
		}
		_, _ = io.WriteString(c, "421 4.3.2 mailtest: service not available\r\n")
		c.Close()
	}
}

type session struct {
	s    *Server
	c    *smtp.Conn
	from string
	to   []string
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	f := ss.s.rcpt
	ss.s.mu.Unlock()
	if f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(ss.to) == 0 {
		return errors.New("no recipients")
	}
	ss.s.mu.Lock()
	ss.s.received = append(ss.s.received, Received{From: ss.from, To: ss.to, Data: b})
	n, f := len(ss.s.received), ss.s.accepted
	ss.s.mu.Unlock()
	select {
	case ss.s.arrived <- struct{}{}:
	default:
	}
	if f != nil {
		f(n, ss.c)
	}
	return nil
}
