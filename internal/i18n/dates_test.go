package i18n_test

import (
	"testing"
	"time"

	"treffpunkt/internal/i18n"
	"treffpunkt/web"
)

func load(t *testing.T) *i18n.Catalogue {
	t.Helper()
	cat, err := i18n.Load(web.FS, "de")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// Each language has its own weekday and month names and order; all use the
// 24-hour clock, in the event's time zone whatever the server's.
func TestDatesFollowTheLanguage(t *testing.T) {
	t.Parallel()
	cat := load(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 12, 4, 18, 0, 0, 0, berlin)
	for lang, want := range map[string]string{
		"de": "Freitag, 4. Dezember 2026, 18:00–21:00 Uhr",
		"en": "Friday, 4 December 2026, 18:00–21:00",
		"tr": "4 Aralık 2026 Cuma, 18:00–21:00",
		"ru": "пятница, 4 декабря 2026 г., 18:00–21:00",
		"ku": "În, 4 Berfanbar 2026, 18:00–21:00",
		"ar": "الجمعة، 4 ديسمبر 2026، الساعة \u206618:00–21:00\u2069",
		"fa": "جمعه ۴ دسامبر ۲۰۲۶، ساعت \u2066۱۸:۰۰–۲۱:۰۰\u2069",
	} {
		if got := cat.For(lang).Span(start.UTC(), start.Add(3*time.Hour).UTC(), false, berlin); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	late := time.Date(2027, 1, 19, 23, 30, 0, 0, berlin)
	if got := cat.For("tr").DateTime(late.UTC(), berlin); got != "19 Ocak 2027 Salı, 23:30" {
		t.Errorf("tr: %q", got)
	}
}

func TestLanguageChoice(t *testing.T) {
	t.Parallel()
	cat := load(t)
	for _, c := range []struct {
		explicit []string
		accept   string
		want     string
	}{
		{nil, "tr-TR,en;q=0.8", "tr"},
		{nil, "fa-IR", "fa"},
		{nil, "ar-SY,ar;q=0.9", "ar"},
		{nil, "kmr,ku;q=0.9", "ku"},
		{nil, "ru-RU,ru", "ru"},
		{nil, "fr-FR,en;q=0.5", "en"},
		{nil, "ja", "de"},
		{[]string{"en"}, "de", "en"},
		{[]string{"xx", "fa"}, "de", "fa"},
	} {
		if got := cat.Match(c.explicit, c.accept); got != c.want {
			t.Errorf("Match(%v, %q) = %q, want %q", c.explicit, c.accept, got, c.want)
		}
	}
}

func TestDirection(t *testing.T) {
	t.Parallel()
	for lang, want := range map[string]string{"de": "ltr", "en": "ltr", "tr": "ltr", "ru": "ltr", "ku": "ltr", "ar": "rtl", "fa": "rtl"} {
		if got := i18n.Dir(lang); got != want {
			t.Errorf("Dir(%s) = %s", lang, got)
		}
	}
}

// Plural forms follow each language's rules, not German's.
func TestPluralsFollowTheLanguage(t *testing.T) {
	t.Parallel()
	cat := load(t)
	for _, c := range []struct {
		lang string
		n    int
		want string
	}{
		{"de", 1, "Noch 1 Platz frei"},
		{"ru", 1, "Осталось 1 место"},
		{"ru", 3, "Осталось 3 места"},
		{"ru", 5, "Осталось 5 мест"},
		{"ru", 21, "Осталось 21 место"},
		{"ar", 0, "لم يبقَ أي مكان"},
		{"ar", 2, "بقي مكانان"},
		{"ar", 5, "بقيت 5 أماكن"},
		{"ar", 11, "بقي 11 مكانًا"},
		{"ar", 100, "بقي 100 مكان"},
		{"tr", 3, "3 yer kaldı"},
	} {
		if got := cat.For(c.lang).N("seats_left", c.n, nil); got != c.want {
			t.Errorf("%s %d: %q, want %q", c.lang, c.n, got, c.want)
		}
	}
}

// Persian texts write their own numbers in Persian digits, so every number
// the formatter fills in (counts, plural counts, days, years, clock times)
// is written in them too; Arabic keeps 0–9 as its catalogue does, and a
// string such as a ticket code is never rewritten.
func TestNumbersAreWrittenInTheLanguagesDigits(t *testing.T) {
	cat := load(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, c := range []struct {
		lang, got, want string
	}{
		{"fa", cat.For("fa").T("err.party_size_max", map[string]any{"Max": 4}), "حداکثر ۴ نفر."},
		{"fa", cat.For("fa").N("seats_left", 12, nil), "۱۲ جا مانده"},
		{"fa", cat.For("fa").T("reg.ticket_n", map[string]any{"N": int64(2), "Total": 10}), "بلیت ۲ از ۱۰"},
		{"fa", cat.For("fa").T("checkin.by", map[string]any{"Time": "18:05", "By": "door-7"}), "ساعت 18:05، توسط door-7"},
		{"fa", cat.For("fa").DateTime(time.Date(2027, 1, 19, 23, 30, 0, 0, berlin), berlin), "سه‌شنبه ۱۹ ژانویه ۲۰۲۷، ساعت ۲۳:۳۰"},
		{"ar", cat.For("ar").T("err.party_size_max", map[string]any{"Max": 4}), "الحد الأقصى لعدد الأشخاص: 4."},
		{"ar", cat.For("ar").N("seats_left", 12, nil), "بقي 12 مكانًا"},
		{"de", cat.For("de").T("err.party_size_max", map[string]any{"Max": 4}), "Höchstens 4 Personen."},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.lang, c.got, c.want)
		}
	}
	if got := i18n.Digits("fa", "2027-05-01 18:00"); got != "۲۰۲۷-۰۵-۰۱ ۱۸:۰۰" {
		t.Errorf("Digits fa: %q", got)
	}
	if got := i18n.Digits("ar", "18:00"); got != "18:00" {
		t.Errorf("Digits ar: %q", got)
	}
}
