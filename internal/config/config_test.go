package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := parse(env(map[string]string{"DATABASE_URL": "postgres://u@localhost/db"}), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != "127.0.0.1:8080" || c.BaseURL != "http://localhost:8080" || c.RetentionDays != 90 ||
		c.DefaultLang != "de" || c.SignupRatePerIP != 30 || c.SecureCookies() ||
		c.SignupRatePerEmail != 10 || c.APIRatePerToken != 600 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestEachBadValueIsNamed(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]string{
		"DATABASE_URL":               "mysql://x",
		"LISTEN_ADDR":                "8080",
		"BASE_URL":                   "localhost:8080",
		"SMTP_URL":                   "http://mail",
		"SECRET_KEY":                 "short",
		"RETENTION_DAYS":             "0",
		"DEFAULT_LANG":               "fr",
		"SIGNUP_RATE_PER_IP":         "-1",
		"SIGNUP_RATE_PER_EMAIL":      "x",
		"API_RATE_PER_TOKEN":         "-5",
		"LOGIN_ATTEMPTS_PER_ACCOUNT": "0",
		"LOGIN_ATTEMPTS_PER_IP":      "many",
		"TRUSTED_PROXIES":            "10.0.0.0/99",
		"FRAME_ANCESTORS":            "https://a.example/path",
	} {
		m := map[string]string{"DATABASE_URL": "postgres://u@localhost/db", name: v}
		_, err := parse(env(m), true)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v does not name it", name, v, err)
		}
	}
	if _, err := parse(env(nil), true); err == nil || !strings.Contains(err.Error(), "DATABASE_URL: is required") {
		t.Errorf("missing DATABASE_URL: %v", err)
	}
	if _, err := parse(env(nil), false); err != nil {
		t.Errorf("DATABASE_URL not needed: %v", err)
	}
}

func TestListsAndHTTPS(t *testing.T) {
	t.Parallel()
	c, err := parse(env(map[string]string{
		"BASE_URL":        "https://treffpunkt.example/",
		"TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
		"FRAME_ANCESTORS": "https://miso.example, https://kargah.example/",
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://treffpunkt.example" || !c.SecureCookies() || len(c.TrustedProxies) != 2 ||
		strings.Join(c.FrameAncestors, " ") != "https://miso.example https://kargah.example" {
		t.Fatalf("%+v", c)
	}
}
