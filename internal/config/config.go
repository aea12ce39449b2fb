// Package config reads Treffpunkt's settings from the environment and checks
// them once at start, so that a typo stops the process with a clear message
// instead of surfacing as odd behaviour later.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Config is every setting of DESIGN.md's contract.
type Config struct {
	DatabaseURL   string
	ListenAddr    string
	BaseURL       string
	SMTPURL       string
	MailFrom      string
	SecretKey     string
	RetentionDays int
	// HoldHours is how long a pending registration (members-only events,
	// email confirmation) keeps its seats while the link is not followed.
	HoldHours       int
	DefaultLang     string
	SignupRatePerIP int
	// SignupRatePerEmail is sign-ups per email address per hour (0 = off).
	SignupRatePerEmail int
	// MemberNumberRatePerIP is sign-ups carrying a member number per client
	// IP per hour (0 = off): guessing numbers is slow (issue 16).
	MemberNumberRatePerIP int
	// LoginAttemptsPerAccount and LoginAttemptsPerIP are the bursts of
	// password attempts before the login throttle slows them down (to one
	// every 2 minutes per account, one every 15 seconds per IP).
	LoginAttemptsPerAccount, LoginAttemptsPerIP int
	// APIRatePerToken is staff API requests per token per minute (0 = off).
	APIRatePerToken int
	TrustedProxies  []string
	MetricsToken    string
	FrameAncestors  []string
	// SMTP is SMTP_URL taken apart; nil when SMTP_URL is empty (dev mode:
	// mail is logged, not sent).
	SMTP *SMTP
}

// Languages Treffpunkt publishes in; the first is the network's default.
var Languages = []string{"de", "en", "tr", "ar", "fa", "ru", "ku"}

// FromEnv reads the environment. needDB says whether DATABASE_URL is required
// for the command being run.
func FromEnv(needDB bool) (*Config, error) {
	return parse(os.Getenv, needDB)
}

func parse(get func(string) string, needDB bool) (*Config, error) {
	c := &Config{
		DatabaseURL:  get("DATABASE_URL"),
		ListenAddr:   or(get("LISTEN_ADDR"), "127.0.0.1:8080"),
		BaseURL:      strings.TrimRight(or(get("BASE_URL"), "http://localhost:8080"), "/"),
		SMTPURL:      get("SMTP_URL"),
		MailFrom:     or(get("MAIL_FROM"), "Treffpunkt <noreply@localhost>"),
		SecretKey:    get("SECRET_KEY"),
		DefaultLang:  or(get("DEFAULT_LANG"), "de"),
		MetricsToken: get("METRICS_TOKEN"),
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}

	if needDB && c.DatabaseURL == "" {
		bad("DATABASE_URL", "is required (for example postgres://user:pass@localhost:5432/treffpunkt?sslmode=disable)")
	}
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("DATABASE_URL", "must be a postgres:// URL")
		}
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("LISTEN_ADDR", "must be host:port, got %q", c.ListenAddr)
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("BASE_URL", "must be an absolute http(s) URL, got %q", c.BaseURL)
	}
	if c.SMTPURL != "" {
		smtp, err := parseSMTP(c.SMTPURL)
		if err != nil {
			bad("SMTP_URL", "%v; it must look like smtp://[user:pass@]host:port[?tls=none|starttls|tls]", err)
		}
		c.SMTP = smtp
	}
	if a, err := mail.ParseAddress(c.MailFrom); err != nil || !strings.Contains(a.Address, "@") {
		bad("MAIL_FROM", "must be an email address, optionally with a name (Treffpunkt <noreply@example.org>), got %q", c.MailFrom)
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		bad("SECRET_KEY", "must be at least 32 characters")
	}
	if !isLanguage(c.DefaultLang) {
		bad("DEFAULT_LANG", "must be one of %s, got %q", strings.Join(Languages, ", "), c.DefaultLang)
	}
	var err error
	if c.RetentionDays, err = intVar(get, "RETENTION_DAYS", 90); err != nil || c.RetentionDays < 1 {
		bad("RETENTION_DAYS", "must be a whole number of days ≥ 1")
	}
	if c.HoldHours, err = intVar(get, "HOLD_HOURS", 24); err != nil || c.HoldHours < 1 {
		bad("HOLD_HOURS", "must be a whole number of hours ≥ 1")
	}
	if c.SignupRatePerIP, err = intVar(get, "SIGNUP_RATE_PER_IP", 30); err != nil || c.SignupRatePerIP < 0 {
		bad("SIGNUP_RATE_PER_IP", "must be a whole number ≥ 0 (0 turns the limit off)")
	}
	if c.SignupRatePerEmail, err = intVar(get, "SIGNUP_RATE_PER_EMAIL", 10); err != nil || c.SignupRatePerEmail < 0 {
		bad("SIGNUP_RATE_PER_EMAIL", "must be a whole number ≥ 0 (sign-ups per address per hour; 0 turns the limit off)")
	}
	if c.MemberNumberRatePerIP, err = intVar(get, "MEMBER_NUMBER_RATE_PER_IP", 10); err != nil || c.MemberNumberRatePerIP < 0 {
		bad("MEMBER_NUMBER_RATE_PER_IP", "must be a whole number ≥ 0 (sign-ups with a member number per client IP per hour; 0 turns the limit off)")
	}
	if c.LoginAttemptsPerAccount, err = intVar(get, "LOGIN_ATTEMPTS_PER_ACCOUNT", 5); err != nil || c.LoginAttemptsPerAccount < 1 {
		bad("LOGIN_ATTEMPTS_PER_ACCOUNT", "must be a whole number ≥ 1 (password attempts per account before they slow down)")
	}
	if c.LoginAttemptsPerIP, err = intVar(get, "LOGIN_ATTEMPTS_PER_IP", 20); err != nil || c.LoginAttemptsPerIP < 1 {
		bad("LOGIN_ATTEMPTS_PER_IP", "must be a whole number ≥ 1 (password attempts per client IP before they slow down)")
	}
	if c.APIRatePerToken, err = intVar(get, "API_RATE_PER_TOKEN", 600); err != nil || c.APIRatePerToken < 0 {
		bad("API_RATE_PER_TOKEN", "must be a whole number ≥ 0 (requests per API token per minute; 0 turns the limit off)")
	}
	for _, p := range list(get("TRUSTED_PROXIES")) {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			bad("TRUSTED_PROXIES", "%q is neither an IP address nor a CIDR range", p)
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	for _, o := range list(get("FRAME_ANCESTORS")) {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("FRAME_ANCESTORS", "%q is not an origin like https://example.org", o)
		}
		c.FrameAncestors = append(c.FrameAncestors, strings.TrimRight(o, "/"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// SecureCookies is true when the site is served over https.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

func isLanguage(l string) bool {
	for _, x := range Languages {
		if x == l {
			return true
		}
	}
	return false
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func intVar(get func(string) string, name string, def int) (int, error) {
	v := strings.TrimSpace(get(name))
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}

func list(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
