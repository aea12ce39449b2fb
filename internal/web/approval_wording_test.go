package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"text/template"

	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/testapp"
	"treffpunkt/web"
)

// Issue 19: on an event with selection by approval the public page says
// that places are given by selection, and its form applies: heading,
// address hint and button say so in every language; the page after the
// form says that the application arrived, not that a place is held. An
// event without selection keeps "Sign up".
func TestApprovalEventFormAppliesInEveryLanguage(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load(web.FS, "de")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := admOrganiser(t)
	o, err := a.Orgs.BySlug(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	a.Event(t, o, "loccum", func(in *event.Input) {
		yes := true
		in.Approval, in.Capacity = &yes, event.Some(25)
	})
	a.Event(t, o, "fest", nil)
	for _, lang := range config.Languages {
		l := cat.For(lang)
		tr := func(id string) string { return template.HTMLEscapeString(l.T(id, nil)) }
		b := a.Browser(t)
		_, page := b.Get("/events/loccum?lang=" + lang)
		for _, id := range []string{"approval.event_note", "form.heading_apply", "form.email_hint_apply", "form.submit_apply"} {
			if !strings.Contains(page, tr(id)) {
				t.Errorf("[%s] the approval event's page lacks %s %q", lang, id, l.T(id, nil))
			}
		}
		if strings.Contains(page, ">"+tr("form.submit")+"</button>") || strings.Contains(page, tr("form.email_hint")) {
			t.Errorf("[%s] the approval event's form still signs up", lang)
		}
		if _, plain := b.Get("/events/fest?lang=" + lang); !strings.Contains(plain, ">"+tr("form.submit")+"</button>") || strings.Contains(plain, tr("form.submit_apply")) {
			t.Errorf("[%s] an event without selection lost its sign-up button", lang)
		}

		resp, _ := b.PostRaw("/events/loccum/register", url.Values{"csrf_token": {testapp.CSRF(t, page)}, "lang": {lang},
			"name": {"Rana " + lang}, "email": {"rana-" + lang + "@example.org"}, "party_size": {"1"}, "consent": {"yes"}})
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/") {
			t.Fatalf("[%s] apply: %d %q", lang, resp.StatusCode, loc)
		}
		_, done := b.Get(loc + "?lang=" + lang)
		for _, id := range []string{"title.application", "reg.applied_text", "reg.status.applied"} {
			if !strings.Contains(done, tr(id)) {
				t.Errorf("[%s] the page after applying lacks %s %q", lang, id, l.T(id, nil))
			}
		}
		if strings.Contains(done, tr("reg.confirmed_text")) || strings.Contains(done, "<h1>"+tr("title.registration")+"</h1>") {
			t.Errorf("[%s] the page after applying says the person is registered", lang)
		}
	}
}
