package mail

import (
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"treffpunkt/internal/i18n"
)

// The mail templates take every word from the catalogues:
//
//	{{T "mail.confirmed.intro" "Party" (party .PartySize)}}
//	{{N "mail_tickets" (len .Tickets)}}
//
// T and N take the message id and then name/value pairs for the message's
// placeholders. In HTML each string value is escaped and isolated in <bdi>
// (names, emails, codes and dates stay readable inside right-to-left text);
// template.HTML values (links, plural phrases) are put in as they are. The
// catalogue's own text is trusted markup (TestMailMessagesHaveNoMarkup).

// args turns name/value pairs into a message's template data.
func args(kv []any, value func(any) any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("message data: %d values, want name/value pairs", len(kv))
	}
	if len(kv) == 0 {
		return nil, nil
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		name, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("message data: name %v is not a string", kv[i])
		}
		m[name] = value(kv[i+1])
	}
	return m, nil
}

func asIs(v any) any { return v }

func textFuncs(l *i18n.Localizer) texttemplate.FuncMap {
	return texttemplate.FuncMap{
		// isolate wraps s in FIRST STRONG ISOLATE … POP DIRECTIONAL
		// ISOLATE: plain text has no <bdi>, and an address of
		// left-to-right parts must stay in its order inside an Arabic or
		// Persian sentence.
		"isolate": func(s string) string { return "\u2068" + s + "\u2069" },
		"T": func(id string, kv ...any) (string, error) {
			d, err := args(kv, asIs)
			return l.T(id, d), err
		},
		"N": func(id string, n int, kv ...any) (string, error) {
			d, err := args(kv, asIs)
			return l.N(id, n, d), err
		},
		"party":    func(n int) string { return partyOf(l, "mail_party_total", n) },
		"partyFor": func(n int) string { return partyOf(l, "mail_party_for", n) },
	}
}

// partyOf is the phrase for a party of n people, "" for one person.
func partyOf(l *i18n.Localizer, id string, n int) string {
	if n <= 1 {
		return ""
	}
	return l.N(id, n, nil)
}

// isolated escapes a value for HTML and isolates strings with <bdi>.
func isolated(v any) any {
	switch x := v.(type) {
	case htmltemplate.HTML:
		return string(x)
	case string:
		if x == "" {
			return ""
		}
		return "<bdi>" + htmltemplate.HTMLEscapeString(x) + "</bdi>"
	case fmt.Stringer:
		return "<bdi>" + htmltemplate.HTMLEscapeString(x.String()) + "</bdi>"
	case int, int64:
		return x // needs no escaping; T writes it in the language's digits
	default:
		return htmltemplate.HTMLEscapeString(fmt.Sprint(x))
	}
}

// button is a call to action: a link drawn as a button.
type button struct {
	URL   string
	Label htmltemplate.HTML
}

func htmlFuncs(l *i18n.Localizer) htmltemplate.FuncMap {
	return htmltemplate.FuncMap{
		"T": func(id string, kv ...any) (htmltemplate.HTML, error) {
			d, err := args(kv, isolated)
			return htmltemplate.HTML(l.T(id, d)), err
		},
		"N": func(id string, n int, kv ...any) (htmltemplate.HTML, error) {
			d, err := args(kv, isolated)
			return htmltemplate.HTML(l.N(id, n, d)), err
		},
		// Plain is a message as text, for attributes (alt="…").
		"Plain": func(id string, kv ...any) (string, error) {
			d, err := args(kv, asIs)
			return l.T(id, d), err
		},
		"party":    func(n int) htmltemplate.HTML { return htmltemplate.HTML(partyOf(l, "mail_party_total", n)) },
		"partyFor": func(n int) htmltemplate.HTML { return htmltemplate.HTML(partyOf(l, "mail_party_for", n)) },
		"button":   func(url string, label htmltemplate.HTML) button { return button{URL: url, Label: label} },
		// linkTo and linkEnd wrap a phrase of a message in a link:
		// "… on the {{.Link}}event page{{.End}}."
		"linkTo":  func(url string) htmltemplate.HTML { return htmltemplate.HTML(`<a href="` + safeURL(url) + `">`) },
		"linkEnd": func() htmltemplate.HTML { return "</a>" },
		"mailto": func(addr string) htmltemplate.HTML {
			a := htmltemplate.HTMLEscapeString(addr)
			return htmltemplate.HTML(`<a href="mailto:` + a + `"><bdi>` + a + `</bdi></a>`)
		},
		"dirOf": i18n.Dir,
	}
}

// safeURL escapes an http(s) link for an attribute; anything else becomes
// "#" (the links are Treffpunkt's own).
func safeURL(u string) string {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return "#"
	}
	return htmltemplate.HTMLEscapeString(u)
}
