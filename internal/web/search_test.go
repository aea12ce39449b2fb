package web_test

import (
	"net/url"
	"strings"
	"testing"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
)

// TestSearchThroughThePages: the filter form of the home page and an
// organisation's page finds an event by a word typed without its
// diacritics, keeps the filters in the form, and reads the spoken
// language from ?spoken= while ?lang= stays the page's language.
func TestSearchThroughThePages(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	a.Event(t, o, "newroz", func(in *event.Input) {
		ku := "ku"
		in.DefaultLang = &ku
		in.Title = event.Texts{"ku": "Şahiya Newrozê"}
		in.Languages = &[]string{"ku"}
	})
	a.Event(t, o, "quiz", func(in *event.Input) { in.Title = event.Texts{"de": "Kneipenquiz"} })
	b := a.Browser(t)
	for _, path := range []string{"/", "/orgs/miso"} {
		code, body := b.Get(path + "?lang=en&q=" + url.QueryEscape("sahiya newroze"))
		if code != 200 || !strings.Contains(body, "/events/newroz") || strings.Contains(body, "/events/quiz") {
			t.Errorf("%s q=sahiya newroze: %d, newroz %v, quiz %v", path, code, strings.Contains(body, "/events/newroz"), strings.Contains(body, "/events/quiz"))
		}
		for _, want := range []string{`name="q" type="search" value="sahiya newroze"`, `<html lang="en"`, `<legend>`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: no %q in the page", path, want)
			}
		}
		_, body = b.Get(path + "?lang=en&spoken=ku")
		if !strings.Contains(body, "/events/newroz") || strings.Contains(body, "/events/quiz") {
			t.Errorf("%s spoken=ku: the list is not filtered", path)
		}
		if !strings.Contains(body, `value="ku" lang="ku" selected`) {
			t.Errorf("%s spoken=ku: not kept in the form", path)
		}
		// Values a page cannot use are left out, not an error.
		if code, body := b.Get(path + "?when=someday&from=x&spoken=xx&access=wifi"); code != 200 || !strings.Contains(body, "/events/quiz") {
			t.Errorf("%s bad values: %d", path, code)
		}
	}
}
