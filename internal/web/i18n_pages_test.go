package web_test

import (
	"context"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/registration"
	"treffpunkt/web"
)

// catalogueIDs are all message ids, for spotting one printed untranslated.
func catalogueIDs(t *testing.T) map[string]bool {
	t.Helper()
	b, err := fs.ReadFile(web.FS, "i18n/de.toml")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := toml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// idLike finds words shaped like message ids, in text and attributes.
var idLike = regexp.MustCompile(`[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+|\b(?:seats_left|waitlist_length)\b`)

// skipTexts are each language's "skip to content" link: finding it proves
// a page was rendered from that language's catalogue, not a fallback.
func skipTexts(t *testing.T) map[string]string {
	t.Helper()
	cat, err := i18n.Load(web.FS, "de")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, lang := range config.Languages {
		out[lang] = cat.For(lang).T("nav.skip", nil)
	}
	return out
}

// checkPage asserts a page's language, direction and that no raw id shows.
func checkPage(t *testing.T, ids map[string]bool, skip map[string]string, path, lang, body string) {
	t.Helper()
	want := `<html lang="` + lang + `" dir="` + i18n.Dir(lang) + `">`
	if !strings.Contains(body, want) {
		t.Errorf("%s [%s]: lacks %s", path, lang, want)
	}
	if s := skip[lang]; !strings.Contains(body, ">"+s+"<") {
		t.Errorf("%s [%s]: not rendered in %s (no %q)", path, lang, lang, s)
	}
	for _, w := range idLike.FindAllString(body, -1) {
		if ids[w] {
			t.Errorf("%s [%s]: raw message id %q", path, lang, w)
		}
	}
}

// Every public page and every page of the organisers' area renders in every
// language, with its lang and dir, and shows no message id untranslated.
func TestEveryPageRendersInEveryLanguage(t *testing.T) {
	t.Parallel()
	ids, skip := catalogueIDs(t), skipTexts(t)
	w := admNewWorld(t)
	ctx := context.Background()
	ev := w.Event(t, w.A.Org, "konferenz", func(in *event.Input) {
		in.Capacity = event.Some(5)
		in.MinAge = event.Some(16)
		in.Title = event.Texts{"de": "Migrationskonferenz", "ar": "مؤتمر الهجرة"}
	})
	res, err := w.Registrations.SignUp(ctx, ev.Slug, registration.SignupInput{Name: "Ayşe Yılmaz", Email: "ayse@example.org", PartySize: 1, BirthDate: "1990-05-01", Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := w.Registrations.SignUp(ctx, ev.Slug, registration.SignupInput{Name: "Lena", Email: "lena@example.org", PartySize: 1, BirthDate: "1990-05-01", Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Registrations.Cancel(ctx, gone.Registration.ManageToken); err != nil {
		t.Fatal(err)
	}
	code := res.Registration.Tickets[0].Code
	public := map[string]int{
		"/":                                   200,
		"/?org=a&kind=workshop":               200,
		"/orgs/a":                             200,
		"/events/konferenz":                   200,
		"/events/fest-a":                      200,
		"/r/" + res.Registration.ManageToken:  200,
		"/r/" + gone.Registration.ManageToken: 200,
		"/r/" + w.A.Waitlisted.ManageToken:    200,
		"/t/" + code:                          200,
		"/login":                              200,
		"/login/reset":                        200,
		"/login/reset/nope":                   200,
		"/events/nope":                        404,
		"/no/such/page":                       404,
	}
	admin := []string{
		"/admin", "/admin/orgs/a", "/admin/orgs/a/new-event",
		"/admin/orgs/a/events/fest-a", "/admin/orgs/a/events/fest-a/preview",
		"/admin/orgs/a/events/fest-a/registrations", "/admin/orgs/a/members",
		"/admin/orgs/a/staff", "/admin/orgs/a/tokens",
		"/checkin", "/checkin/events/fest-a",
	}
	c := w.client(w.A.Owner)
	for _, lang := range config.Languages {
		for path, status := range public {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			got, body := w.Browser(t).Get(path + sep + "lang=" + lang)
			if got != status && !(path == "/login/reset/nope" && got >= 400 && got < 500) {
				t.Errorf("%s [%s]: status %d, want %d", path, lang, got, status)
			}
			checkPage(t, ids, skip, path, lang, body)
		}
		for _, path := range admin {
			got, body := c.Get(path + "?lang=" + lang)
			if got != http.StatusOK {
				t.Errorf("%s [%s]: status %d", path, lang, got)
			}
			checkPage(t, ids, skip, path, lang, body)
		}
	}
}

// The switcher names each language in itself, and a choice is remembered.
func TestLanguageSwitcherAndCookie(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	b := w.Browser(t)
	_, body := b.Get("/?lang=fa")
	for _, want := range []string{`lang="ar" dir="rtl" hreflang="ar"`, ">العربية<", ">فارسی<", ">Kurdî<", ">Türkçe<", ">Русский<", `aria-current="true">فارسی<`} {
		if !strings.Contains(body, want) {
			t.Errorf("switcher lacks %q", want)
		}
	}
	if _, body := b.Get("/events/fest-a"); !strings.Contains(body, `<html lang="fa" dir="rtl">`) {
		t.Errorf("the choice of fa was not remembered")
	}
	// Switching keeps the page's filters.
	if _, body := b.Get("/?org=a&kind=workshop"); !strings.Contains(body, `href="/?kind=workshop&amp;lang=ar&amp;org=a"`) {
		t.Errorf("the switcher drops the filters")
	}
}
