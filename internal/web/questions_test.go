package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testapp"
)

// webQuestions are one question of each type: two required, two for the door.
func webQuestions() *event.Questions {
	de := func(s string) event.Texts { return event.Texts{"de": s} }
	return &event.Questions{
		{Key: "diet", Type: event.QSingleChoice, Required: true, Label: event.Texts{"de": "Essen", "en": "Food", "ar": "الطعام"},
			Options: []event.Option{{Value: "vegan", Label: event.Texts{"de": "Vegan", "en": "Vegan"}}, {Value: "halal", Label: de("Halal")}}},
		{Key: "needs", Type: event.QMultipleChoice, Door: true, Label: de("Bedarf"),
			Options: []event.Option{{Value: "wheelchair", Label: de("Rollstuhlplatz")}, {Value: "interpreting", Label: de("Dolmetschen")}}},
		{Key: "note", Type: event.QText, Label: de("Anmerkung")},
		{Key: "children", Type: event.QNumber, Label: de("Kinder")},
		{Key: "photos", Type: event.QYesNo, Required: true, Door: true, Label: de("Fotos erlaubt")},
	}
}

func questionsEvent(t *testing.T, a *testapp.App, slug string) *event.Event {
	t.Helper()
	return a.Event(t, a.Org(t, "miso"), slug, func(in *event.Input) { in.Questions = webQuestions() })
}

// The form asks every question in the reader's language, with inputs per
// type and required marks.
func TestFormAsksTheEventsQuestions(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	questionsEvent(t, a, "fest")
	_, page := a.Browser(t).Get("/events/fest")
	for _, want := range []string{
		`<legend>Essen <span class="required">(Pflichtfeld)</span></legend>`,
		`id="f-answers.diet" name="answers.diet" type="radio" value="vegan"`,
		`id="f-answers.diet-1" name="answers.diet" type="radio" value="halal"`,
		`name="answers.needs" type="checkbox" value="wheelchair"`,
		`<textarea id="f-answers.note" name="answers.note"`,
		`id="f-answers.children" name="answers.children" type="text" inputmode="decimal"`,
		`name="answers.photos" type="radio" value="yes"`, `>Ja</label>`, `>Nein</label>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("form lacks %s", want)
		}
	}
	if strings.Contains(page, `<legend>Bedarf <span class="required">`) {
		t.Errorf("an optional question is marked required")
	}
	// In English the label falls back to German where it has no English.
	_, page = a.Browser(t).Get("/events/fest?lang=en")
	if !strings.Contains(page, `<legend>Food <span class="required">(required)</span></legend>`) ||
		!strings.Contains(page, `<legend lang="de" dir="ltr">Bedarf</legend>`) || !strings.Contains(page, `>Yes</label>`) {
		t.Errorf("English form does not show the questions in English with German fallback")
	}
}

// Every bad answer through the form marks its field, links it from the
// error summary, keeps what was entered, and writes nothing.
func TestFormBadAnswersMarkTheQuestion(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	questionsEvent(t, a, "fest")
	good := func() url.Values {
		return url.Values{"name": {"Ayla"}, "email": {"ayla@example.org"}, "consent": {"yes"},
			"answers.diet": {"vegan"}, "answers.photos": {"no"}, "answers.note": {"Mit Kinderwagen"}}
	}
	cases := []struct {
		name   string
		change func(url.Values)
		field  string
	}{
		{"missing required choice", func(v url.Values) { v.Del("answers.diet") }, "answers.diet"},
		{"missing required yes/no", func(v url.Values) { v.Del("answers.photos") }, "answers.photos"},
		{"no answers at all", func(v url.Values) { v.Del("answers.diet"); v.Del("answers.photos"); v.Del("answers.note") }, "answers.diet"},
		{"unknown option", func(v url.Values) { v.Set("answers.diet", "kosher") }, "answers.diet"},
		{"unknown option among choices", func(v url.Values) { v["answers.needs"] = []string{"wheelchair", "parking"} }, "answers.needs"},
		{"yes/no neither", func(v url.Values) { v.Set("answers.photos", "vielleicht") }, "answers.photos"},
		{"number in words", func(v url.Values) { v.Set("answers.children", "zwei") }, "answers.children"},
		{"number too large", func(v url.Values) { v.Set("answers.children", "99999999999") }, "answers.children"},
		{"text too long", func(v url.Values) { v.Set("answers.note", strings.Repeat("a", 1001)) }, "answers.note"},
		{"text with NUL", func(v url.Values) { v.Set("answers.note", "a\x00b") }, "answers.note"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := good()
			tc.change(v)
			resp, body := a.Browser(t).Post("/events/fest", "/events/fest/register", v)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			if !strings.Contains(body, `id="e-`+tc.field+`"`) || !strings.Contains(body, `aria-describedby="e-`+tc.field+`"`) {
				t.Fatalf("field %s not marked", tc.field)
			}
			if !strings.Contains(body, `href="#f-`+tc.field+`"`) {
				t.Fatalf("error summary does not link %s", tc.field)
			}
			if v.Get("answers.note") == "Mit Kinderwagen" && !strings.Contains(body, ">Mit Kinderwagen</textarea>") {
				t.Errorf("the text answer was not kept")
			}
			if n := a.Count(t, `SELECT count(*) FROM registrations`); n != 0 {
				t.Fatalf("%d registrations written", n)
			}
		})
	}
	t.Run("choices are kept checked", func(t *testing.T) {
		v := good()
		v.Del("answers.diet")
		v["answers.needs"] = []string{"interpreting"}
		_, body := a.Browser(t).Post("/events/fest", "/events/fest/register", v)
		if !strings.Contains(body, `value="interpreting" checked`) || !strings.Contains(body, `value="no" checked`) {
			t.Fatalf("choices were not kept")
		}
	})
	// An answer to a question the event no longer asks (a form loaded
	// before the organiser removed it) does not block the sign-up.
	t.Run("answer to a removed question is dropped", func(t *testing.T) {
		v := good()
		v.Set("answers.shoe_size", "42")
		resp, _ := a.Browser(t).Post("/events/fest", "/events/fest/register", v)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", resp.StatusCode)
		}
		if n := a.Count(t, `SELECT count(*) FROM registrations WHERE answers ? 'shoe_size'`); n != 0 {
			t.Fatalf("an unknown answer was stored")
		}
	})
}

// A sign-up through the form stores the answers; the registration page
// shows them in the reader's language.
func TestFormAnswersShowOnTheRegistrationPage(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	questionsEvent(t, a, "fest")
	b := a.Browser(t)
	v := url.Values{"name": {"Ayla"}, "email": {"ayla@example.org"}, "consent": {"yes"},
		"answers.diet": {"halal"}, "answers.needs": {"interpreting", "wheelchair"}, "answers.photos": {"yes"},
		"answers.children": {"1,5"}, "answers.note": {"  Mit Kinderwagen "}}
	resp, _ := b.Post("/events/fest", "/events/fest/register", v)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var stored string
	if err := a.DB.Get(&stored, `SELECT answers::text FROM registrations`); err != nil {
		t.Fatal(err)
	}
	want := `{"diet": "halal", "note": "Mit Kinderwagen", "needs": ["wheelchair", "interpreting"], "photos": true, "children": 1.5}`
	if stored != want {
		t.Fatalf("stored %s, want %s", stored, want)
	}
	_, page := b.Get(resp.Header.Get("Location"))
	for _, w := range []string{
		`<dt class="answer">Essen</dt><dd class="answer"><bdi>Halal</bdi></dd>`,
		`<dt class="answer">Bedarf</dt><dd class="answer"><bdi>Rollstuhlplatz, Dolmetschen</bdi></dd>`,
		`<bdi>Mit Kinderwagen</bdi>`, `<bdi>1.5</bdi>`,
		`<dt class="answer">Fotos erlaubt</dt><dd class="answer"><bdi>Ja</bdi></dd>`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("registration page lacks %s", w)
		}
	}
	_, page = b.Get(resp.Header.Get("Location") + "?lang=en")
	if !strings.Contains(page, `<dt class="answer">Food</dt>`) || !strings.Contains(page, `<bdi>Yes</bdi>`) {
		t.Errorf("registration page in English lacks the answers in English")
	}
}

// The attendee list and both exports have one column per question, in
// order; door staff see the door answers on the ticket page, the holder
// does not; erasing the person clears them.
func TestAnswersInAttendeeListExportsAndTicketPage(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	e := w.Event(t, w.A.Org, "fragen", func(in *event.Input) { in.Questions = webQuestions() })
	ctx := context.Background()
	res, err := w.Registrations.SignUp(ctx, e.Slug, registration.SignupInput{
		Name: "Ayşe Yılmaz", Email: "ayse@example.org", PartySize: 1, Consent: true,
		Answers: map[string]any{"diet": "halal", "needs": []any{"wheelchair"}, "children": float64(2), "photos": false, "note": "=1+1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Registrations.SignUp(ctx, e.Slug, registration.SignupInput{
		Name: "Tim", Email: "tim@example.org", PartySize: 1, Consent: true,
		Answers: map[string]any{"diet": "vegan", "photos": true},
	}); err != nil {
		t.Fatal(err)
	}
	c := w.client(w.A.Organiser)
	base := "/admin/orgs/a/events/fragen/registrations"
	_, _, page := c.do(http.MethodGet, base)
	if !strings.Contains(page, `<th class="answer">Essen</th><th class="answer">Bedarf</th><th class="answer">Anmerkung</th><th class="answer">Kinder</th><th class="answer">Fotos erlaubt</th>`) {
		t.Fatalf("attendee list lacks the question columns")
	}
	if !strings.Contains(page, `<td class="answer"><bdi>Halal</bdi></td><td class="answer"><bdi>Rollstuhlplatz</bdi></td><td class="answer"><bdi>=1&#43;1</bdi></td><td class="answer"><bdi>2</bdi></td><td class="answer"><bdi>Nein</bdi></td>`) {
		t.Fatalf("attendee list lacks the answers")
	}
	if !strings.Contains(page, `<td class="answer"><bdi>Vegan</bdi></td><td class="answer"><bdi></bdi></td>`) {
		t.Fatalf("an unanswered question does not keep its column")
	}

	body, _ := admDownload(t, c, base+".csv")
	rows, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := strings.Join(append(append([]string{}, registration.ExportColumns...), "answer:diet", "answer:needs", "answer:note", "answer:children", "answer:photos"), ",")
	if got := strings.Join(rows[0], ","); got != wantHead {
		t.Fatalf("CSV header %s", got)
	}
	n := len(registration.ExportColumns)
	if got := strings.Join(rows[1][n:], "|"); got != "Halal|Rollstuhlplatz|'=1+1|2|no" {
		t.Fatalf("CSV answers %q", got)
	}

	body, _ = admDownload(t, c, base+".xlsx")
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetName(0)
	xrows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(xrows[0], ","); got != wantHead {
		t.Fatalf("XLSX header %s", got)
	}
	if got := strings.Join(xrows[2][n:], "|"); got != "Vegan||||yes" {
		t.Fatalf("XLSX answers of the second row %q", got)
	}
	cell, _ := excelize.CoordinatesToCellName(n+4, 2)
	if typ, _ := f.GetCellType(sheet, cell); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Errorf("the number answer is stored as %v", typ)
	}

	code := res.Registration.Tickets[0].Code
	_, _, page = w.client(w.A.Door).do(http.MethodGet, "/t/"+code)
	if !strings.Contains(page, `id="door-answers"`) || !strings.Contains(page, "<dt>Bedarf</dt><dd><bdi>Rollstuhlplatz</bdi></dd>") ||
		!strings.Contains(page, "<dt>Fotos erlaubt</dt><dd><bdi>Nein</bdi></dd>") || strings.Contains(page, "Halal") {
		t.Fatalf("door staff do not see exactly the door answers")
	}
	if _, page := w.Browser(t).Get("/t/" + code); strings.Contains(page, "door-answers") {
		t.Fatalf("the ticket page shows door answers to anyone")
	}

	if err := w.Registrations.EraseOne(ctx, e.ID, res.Registration.ID); err != nil {
		t.Fatal(err)
	}
	_, _, page = c.do(http.MethodGet, base)
	if strings.Contains(page, "Halal") || strings.Contains(page, "Rollstuhlplatz") {
		t.Fatalf("erased answers still listed")
	}
}

// The organisers' questions editor saves the list in the order given,
// marks every bad field at its slot, and removes questions.
func TestQuestionsEditorSavesValidatesAndRemoves(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	e := w.Event(t, w.A.Org, "fragen", nil)
	c := w.client(w.A.Organiser)
	path := "/admin/orgs/a/events/fragen/questions"
	_, _, page := c.do(http.MethodGet, path)
	if !strings.Contains(page, `name="q0_key"`) || !strings.Contains(page, `name="q1_key"`) || strings.Contains(page, `name="q2_key"`) {
		t.Fatalf("a new event's editor does not offer two empty questions")
	}
	form := func() url.Values {
		return url.Values{"count": {"2"},
			"q0_pos": {"2"}, "q0_key": {"photos"}, "q0_type": {"yes_no"}, "q0_door": {"yes"}, "q0_label_de": {"Fotos erlaubt"},
			"q1_pos": {"1"}, "q1_key": {"diet"}, "q1_type": {"single_choice"}, "q1_required": {"yes"},
			"q1_label_de": {"Essen"}, "q1_label_en": {"Food"},
			"q1_values": {"vegan\r\nhalal\r\n"}, "q1_options_de": {"Vegan\nHalal"}, "q1_options_en": {"Vegan"},
		}
	}
	resp, _ := c.post(path, form())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: status %d", resp.StatusCode)
	}
	got, err := w.Events.Get(context.Background(), e.Slug)
	if err != nil {
		t.Fatal(err)
	}
	qs := got.Questions
	if len(qs) != 2 || qs[0].Key != "diet" || qs[1].Key != "photos" || !qs[0].Required || qs[0].Door || !qs[1].Door ||
		qs[0].Label["en"] != "Food" || len(qs[0].Options) != 2 || qs[0].Options[1].Value != "halal" ||
		qs[0].Options[1].Label["de"] != "Halal" || qs[0].Options[0].Label["en"] != "Vegan" || qs[0].Options[1].Label["en"] != "" {
		t.Fatalf("saved %+v", qs)
	}
	_, _, page = c.do(http.MethodGet, path)
	if !strings.Contains(page, `name="q0_key" type="text" maxlength="40" dir="ltr" value="diet"`) || !strings.Contains(page, "vegan\nhalal</textarea>") || !strings.Contains(page, `name="q3_key"`) {
		t.Fatalf("the editor does not show the saved questions and two spare ones")
	}

	cases := []struct {
		name   string
		change func(url.Values)
		field  string
	}{
		{"bad key", func(v url.Values) { v.Set("q0_key", "Fotos!") }, "q0_key"},
		{"same key twice", func(v url.Values) { v.Set("q0_key", "diet") }, "q0_key"},
		{"options on yes/no", func(v url.Values) { v.Set("q0_values", "a\nb") }, "q0_values"},
		{"one option only", func(v url.Values) { v.Set("q1_values", "vegan") }, "q1_values"},
		{"bad option value", func(v url.Values) { v.Set("q1_values", "vegan\nHal al") }, "q1_values"},
		{"option without default label", func(v url.Values) { v.Set("q1_options_de", "Vegan") }, "q1_options_de"},
		{"no default label", func(v url.Values) { v.Del("q1_label_de") }, "q1_label_de"},
		{"label too long", func(v url.Values) { v.Set("q1_label_en", strings.Repeat("x", 301)) }, "q1_label_en"},
		{"unknown type", func(v url.Values) { v.Set("q0_type", "date") }, "q0_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := form()
			tc.change(v)
			resp, body := c.post(path, v)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			if !strings.Contains(body, `id="e-`+tc.field+`"`) || !strings.Contains(body, `href="#f-`+tc.field+`"`) {
				t.Fatalf("field %s not marked and linked", tc.field)
			}
		})
	}
	if got, _ := w.Events.Get(context.Background(), e.Slug); len(got.Questions) != 2 {
		t.Fatalf("a refused save changed the questions")
	}

	v := form()
	v.Set("q0_remove", "yes")
	if resp, _ := c.post(path, v); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: status %d", resp.StatusCode)
	}
	if got, _ := w.Events.Get(context.Background(), e.Slug); len(got.Questions) != 1 || got.Questions[0].Key != "diet" {
		t.Fatalf("after removing: %+v", got.Questions)
	}
	// The event editor links the questions page.
	_, _, page = c.do(http.MethodGet, "/admin/orgs/a/events/fragen")
	if !strings.Contains(page, `id="to-questions"`) {
		t.Fatalf("the event editor does not link the questions")
	}
}

// At the door page the answers to door questions show under the verdict,
// yes/no in the page's language; an unknown code shows none.
func TestBrowserDoorShowsDoorAnswers(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "miso")
	ev := a.Event(t, o, "fest", func(in *event.Input) { in.Questions = webQuestions() })
	res, err := a.Registrations.SignUp(context.Background(), ev.Slug, registration.SignupInput{
		Name: "Ayşe Yılmaz", Email: "ayse@example.org", PartySize: 1, Consent: true,
		Answers: map[string]any{"diet": "halal", "needs": []any{"wheelchair"}, "photos": false},
	})
	if err != nil {
		t.Fatal(err)
	}
	code := res.Registration.Tickets[0].Code
	a.Staff(t, o, "door@miso.example", auth.Door, false)
	a.Checkins.SetClock(func() time.Time { return ev.StartsAt.Add(time.Hour) })
	ctx := newBrowser(t)
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser, %s: %v", step, err)
		}
	}
	must("sign in and open the door", chromedp.Do(ctx, append(signIn(a, "door@miso.example"),
		chromedp.Navigate(a.URL+"/checkin/events/"+ev.Slug),
		chromedp.WaitVisible(`#scan-form[data-ready] #f-code`),
		chromedp.SendKeys(`#f-code`, code+"\r"),
		chromedp.WaitVisible(`#result.door-result[data-result="ok"]`),
		chromedp.WaitVisible(`#result-answers`),
	)...))
	text, err := chromedp.Run(ctx, chromedp.Text(`#result-answers`))
	must("read the answers", err)
	if !strings.Contains(text, "Bedarf: Rollstuhlplatz") || !strings.Contains(text, "Fotos erlaubt: Nein") || strings.Contains(text, "Halal") {
		t.Errorf("door answers %q", text)
	}
	must("scan an unknown code", chromedp.Do(ctx,
		chromedp.SendKeys(`#f-code`, "NOSUCHCODE\r"),
		chromedp.WaitVisible(`#result.door-result[data-result="unknown"]`),
		chromedp.WaitNotVisible(`#result-answers`),
	))
}
