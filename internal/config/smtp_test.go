package config

import (
	"strings"
	"testing"
)

func TestSMTPURLIsTakenApart(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]SMTP{
		"smtp://mail.example.org":                             {Host: "mail.example.org", Port: 587, TLS: TLSStartTLS},
		"smtp://mail.example.org:465":                         {Host: "mail.example.org", Port: 465, TLS: TLSImplicit},
		"smtp://127.0.0.1:2525":                               {Host: "127.0.0.1", Port: 2525, TLS: TLSNone},
		"smtp://localhost":                                    {Host: "localhost", Port: 25, TLS: TLSNone},
		"smtp://anna%40miso:p%40ss%3Aw%2Frd@mail.example.org": {Host: "mail.example.org", Port: 587, Username: "anna@miso", Password: "p@ss:w/rd", TLS: TLSStartTLS},
		"smtp://u:p@mail.example.org:2525?tls=tls":            {Host: "mail.example.org", Port: 2525, Username: "u", Password: "p", TLS: TLSImplicit},
		"smtp://mail.example.org:2525?tls=STARTTLS":           {Host: "mail.example.org", Port: 2525, TLS: TLSStartTLS},
	} {
		c, err := parse(env(map[string]string{"SMTP_URL": raw}), false)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if *c.SMTP != want {
			t.Errorf("%s: %+v, want %+v", raw, *c.SMTP, want)
		}
	}
	c, err := parse(env(nil), false)
	if err != nil || c.SMTP != nil {
		t.Fatalf("empty SMTP_URL: %+v %v, want dev mode (nil)", c.SMTP, err)
	}
}

func TestBadSMTPURLFailsWithAClearMessage(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"http://mail.example.org":                     `scheme must be smtp`,
		"smtp://":                                     "has no host",
		"smtp://mail.example.org:0":                   "port must be 1–65535",
		"smtp://mail.example.org:99999":               "port must be 1–65535",
		"smtp://mail.example.org?tls=yes":             `tls must be none, starttls or tls, got "yes"`,
		"smtp://mail.example.org?tsl=none":            `unknown parameter "tsl"`,
		"smtp://mail.example.org/path":                "must not have a path",
		"smtp://u:secret@mail.example.org?tls=none":   "password unencrypted",
		"smtp://:secret@mail.example.org":             "no user name",
		"smtp://u:se%zzcret@mail.example.org":         "not a valid URL",
		"smtp://u:secret@mail.example.org:port":       "not a valid URL",
		"smtp://u:secret@mail.example.org?tls=sslish": "tls must be",
		"smtp://[::1]:2525":                           "IPv6 address",
	} {
		_, err := parse(env(map[string]string{"SMTP_URL": raw}), false)
		if err == nil {
			t.Errorf("%s accepted", raw)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "SMTP_URL") || !strings.Contains(msg, want) {
			t.Errorf("%s: %q does not name SMTP_URL and say %q", raw, msg, want)
		}
		if strings.Contains(msg, "secret") {
			t.Errorf("%s: the error repeats the password: %q", raw, msg)
		}
	}
}

func TestBadMailFromIsNamed(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"noreply", "Treffpunkt <noreply>", "<>"} {
		_, err := parse(env(map[string]string{"MAIL_FROM": v}), false)
		if err == nil || !strings.Contains(err.Error(), "MAIL_FROM") {
			t.Errorf("MAIL_FROM=%q: %v", v, err)
		}
	}
	if _, err := parse(env(map[string]string{"MAIL_FROM": `"Treffpunkt Hannover" <noreply@treffpunkt.example>`}), false); err != nil {
		t.Errorf("good MAIL_FROM refused: %v", err)
	}
}

func TestSMTPStringHidesThePassword(t *testing.T) {
	t.Parallel()
	c, err := parse(env(map[string]string{"SMTP_URL": "smtp://anna:secret@mail.example.org"}), false)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.SMTP.String(); strings.Contains(s, "secret") || !strings.Contains(s, "anna@mail.example.org:587") {
		t.Fatalf("String() = %q", s)
	}
}
