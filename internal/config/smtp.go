package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// TLS modes of the SMTP connection.
const (
	TLSNone     = "none"     // plain SMTP (only sensible on loopback)
	TLSStartTLS = "starttls" // plain connect, then STARTTLS, required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// SMTP is where mail goes: SMTP_URL taken apart.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string
}

// Addr is host:port.
func (s *SMTP) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// String is the URL without the password, for logs.
func (s *SMTP) String() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr(), RawQuery: "tls=" + s.TLS}
	if s.Username != "" {
		u.User = url.User(s.Username)
	}
	return u.String()
}

// parseSMTP reads smtp://[user:pass@]host[:port][?tls=none|starttls|tls].
// Without ?tls the mode is tls on port 465, none on a loopback host and
// starttls otherwise; without a port it is 465 for tls, 25 for none and 587
// for starttls. Errors never repeat the URL: it may hold a password.
func parseSMTP(raw string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("is not a valid URL (percent-encode special characters in the user name and password)")
	}
	if u.Scheme != "smtp" {
		return nil, fmt.Errorf("scheme must be smtp, got %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("has no host")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("must not have a path")
	}
	s := &SMTP{Host: u.Hostname()}
	if strings.Contains(s.Host, ":") {
		// go-mail joins host and port with a bare colon.
		return nil, errors.New("an IPv6 address cannot be the host; use a host name (localhost for ::1)")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Username == "" {
			return nil, errors.New("has a password but no user name")
		}
	}
	q := u.Query()
	for k := range q {
		if k != "tls" {
			return nil, fmt.Errorf("unknown parameter %q (only tls is known)", k)
		}
	}
	if port := u.Port(); port != "" {
		s.Port, err = strconv.Atoi(port)
		if err != nil || s.Port < 1 || s.Port > 65535 {
			return nil, fmt.Errorf("port must be 1–65535, got %q", port)
		}
	}
	switch tls := strings.ToLower(q.Get("tls")); {
	case tls == TLSNone || tls == TLSStartTLS || tls == TLSImplicit:
		s.TLS = tls
	case tls != "":
		return nil, fmt.Errorf("tls must be none, starttls or tls, got %q", q.Get("tls"))
	case s.Port == 465:
		s.TLS = TLSImplicit
	case isLoopback(s.Host):
		s.TLS = TLSNone
	default:
		s.TLS = TLSStartTLS
	}
	if s.Port == 0 {
		s.Port = map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[s.TLS]
	}
	if s.Username != "" && s.TLS == TLSNone && !isLoopback(s.Host) {
		return nil, errors.New("tls=none with a user name would send the password unencrypted over the network; use tls=starttls or tls=tls")
	}
	return s, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
