package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/event"
)

// demoQuestions are the questions of the tests: one of each type.
func demoQuestions() []map[string]any {
	return []map[string]any{
		{"key": "diet", "type": "single_choice", "required": true, "label": map[string]string{"de": "Essen", "en": "Food"},
			"options": []map[string]any{
				{"value": "vegan", "label": map[string]string{"de": "Vegan", "en": "Vegan"}},
				{"value": "halal", "label": map[string]string{"de": "Halal"}},
			}},
		{"key": "needs", "type": "multiple_choice", "door": true, "label": map[string]string{"de": "Bedarf"},
			"options": []map[string]any{
				{"value": "wheelchair", "label": map[string]string{"de": "Rollstuhlplatz"}},
				{"value": "interpreting", "label": map[string]string{"de": "Dolmetschen"}},
				{"value": "childcare", "label": map[string]string{"de": "Kinderbetreuung"}},
			}},
		{"key": "note", "type": "text", "label": map[string]string{"de": "Anmerkung"}},
		{"key": "children", "type": "number", "label": map[string]string{"de": "Kinder"}},
		{"key": "photos", "type": "yes_no", "required": true, "door": true, "label": map[string]string{"de": "Fotos erlaubt"}},
	}
}

func questionsInput(t *testing.T) *event.Questions {
	t.Helper()
	b, _ := json.Marshal(demoQuestions())
	var qs event.Questions
	if err := json.Unmarshal(b, &qs); err != nil {
		t.Fatal(err)
	}
	return &qs
}

func eventBody(slug string, questions any) map[string]any {
	return map[string]any{
		"slug": slug, "title": map[string]string{"de": "Fest"}, "status": "published",
		"starts_at": time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"ends_at":   time.Now().Add(7*24*time.Hour + 3*time.Hour).UTC().Format(time.RFC3339),
		"questions": questions,
	}
}

// Every way a question definition can be wrong is a 422 naming the field,
// on create and on change, and nothing is saved.
func TestQuestionDefinitionsAreValidatedOnSave(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	tok := a.token(o.ID, auth.Organiser)
	a.event(o.ID, "fest", nil)
	label := map[string]string{"de": "Frage"}
	opts := []map[string]any{{"value": "a", "label": label}, {"value": "b", "label": label}}
	q := func(mod func(map[string]any)) []map[string]any {
		m := map[string]any{"key": "frage", "type": "single_choice", "label": label, "options": opts}
		mod(m)
		return []map[string]any{m}
	}
	many := make([]map[string]any, 21)
	for i := range many {
		many[i] = map[string]any{"key": "q" + string(rune('a'+i)), "type": "text", "label": label}
	}
	cases := []struct {
		name      string
		questions any
		field     string
	}{
		{"no key", q(func(m map[string]any) { delete(m, "key") }), "questions.0.key"},
		{"key not slug-like", q(func(m map[string]any) { m["key"] = "Diät wünsche" }), "questions.0.key"},
		{"key starts with a digit", q(func(m map[string]any) { m["key"] = "1st" }), "questions.0.key"},
		{"key too long", q(func(m map[string]any) { m["key"] = strings.Repeat("k", 41) }), "questions.0.key"},
		{"keys not unique", append(q(func(map[string]any) {}), q(func(map[string]any) {})...), "questions.1.key"},
		{"unknown type", q(func(m map[string]any) { m["type"] = "date" }), "questions.0.type"},
		{"no type", q(func(m map[string]any) { delete(m, "type") }), "questions.0.type"},
		{"options on a text question", q(func(m map[string]any) { m["type"] = "text" }), "questions.0.options"},
		{"options on yes/no", q(func(m map[string]any) { m["type"] = "yes_no" }), "questions.0.options"},
		{"choice without options", q(func(m map[string]any) { delete(m, "options") }), "questions.0.options"},
		{"choice with one option", q(func(m map[string]any) { m["options"] = opts[:1] }), "questions.0.options"},
		{"option value not slug-like", q(func(m map[string]any) {
			m["options"] = []map[string]any{{"value": "A B", "label": label}, opts[1]}
		}), "questions.0.options.0.value"},
		{"option values not unique", q(func(m map[string]any) {
			m["options"] = []map[string]any{opts[0], opts[0]}
		}), "questions.0.options.1.value"},
		{"option without label in default language", q(func(m map[string]any) {
			m["options"] = []map[string]any{opts[0], {"value": "b", "label": map[string]string{"en": "B"}}}
		}), "questions.0.options.1.label"},
		{"no label in default language", q(func(m map[string]any) { m["label"] = map[string]string{"en": "Question"} }), "questions.0.label"},
		{"blank label", q(func(m map[string]any) { m["label"] = map[string]string{"de": "  "} }), "questions.0.label"},
		{"label too long", q(func(m map[string]any) { m["label"] = map[string]string{"de": strings.Repeat("x", 301)} }), "questions.0.label.de"},
		{"label in unknown language", q(func(m map[string]any) { m["label"] = map[string]string{"de": "Frage", "xx": "?"} }), "questions.0.label"},
		{"label with control character", q(func(m map[string]any) { m["label"] = map[string]string{"de": "Fr\x07age"} }), "questions.0.label.de"},
		{"too many questions", many, "questions"},
		{"unknown field in a question", q(func(m map[string]any) { m["hint"] = "x" }), "questions.hint"},
		{"required not a bool", q(func(m map[string]any) { m["required"] = "yes" }), "questions.required"},
		{"not a list", map[string]any{"key": "x"}, "questions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.postJSON(http.MethodPost, "/api/v1/orgs/miso/events", tok, eventBody("neu", tc.questions))
			e := r.apiErr(t, http.StatusUnprocessableEntity, "invalid")
			if e.Fields[tc.field] == "" {
				t.Fatalf("create: field %s not named: %v", tc.field, e.Fields)
			}
			r = a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/fest", tok, map[string]any{"questions": tc.questions})
			e = r.apiErr(t, http.StatusUnprocessableEntity, "invalid")
			if e.Fields[tc.field] == "" {
				t.Fatalf("patch: field %s not named: %v", tc.field, e.Fields)
			}
		})
	}
	if n := a.count(`SELECT count(*) FROM events WHERE slug = 'neu' OR questions <> '[]'`); n != 0 {
		t.Fatalf("%d events saved or changed", n)
	}
}

// Questions are saved in order, shown by the organiser and the public API,
// kept by a PATCH that does not name them, and removed by [].
func TestQuestionsRoundTripThroughTheAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	tok := a.token(o.ID, auth.Organiser)
	r := a.postJSON(http.MethodPost, "/api/v1/orgs/miso/events", tok, eventBody("fest", demoQuestions()))
	r.wantStatus(t, http.StatusCreated)
	keys := func(body []byte) string {
		var e struct {
			Questions []event.Question `json:"questions"`
		}
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, q := range e.Questions {
			out = append(out, q.Key+":"+q.Type+":"+q.Label["de"])
		}
		return strings.Join(out, ",")
	}
	want := "diet:single_choice:Essen,needs:multiple_choice:Bedarf,note:text:Anmerkung,children:number:Kinder,photos:yes_no:Fotos erlaubt"
	if got := keys(r.Body); got != want {
		t.Fatalf("created: %s", got)
	}
	if got := keys(a.get("/api/v1/events/fest", "").Body); got != want {
		t.Fatalf("public: %s", got)
	}
	var pub struct {
		Questions []map[string]any `json:"questions"`
	}
	_ = json.Unmarshal(a.get("/api/v1/events/fest", "").Body, &pub)
	if pub.Questions[1]["door"] != true || pub.Questions[0]["required"] != true || len(pub.Questions[0]["options"].([]any)) != 2 {
		t.Fatalf("public question fields: %v", pub.Questions[:2])
	}
	r = a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/fest", tok, map[string]any{"capacity": 50})
	if got := keys(r.Body); got != want {
		t.Fatalf("after a patch without questions: %s", got)
	}
	r = a.postJSON(http.MethodPatch, "/api/v1/orgs/miso/events/fest", tok, map[string]any{"questions": []any{}})
	if got := keys(r.Body); got != "" || !bytes.Contains(r.Body, []byte(`"questions":[]`)) {
		t.Fatalf("after questions []: %s", r.Body)
	}
}

// Every way an answer can be wrong is a 422 naming answers.<key>, and
// nothing is written.
func TestAnswersAreValidatedOnSignUp(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	a.event(o.ID, "fest", func(in *event.Input) { in.Questions = questionsInput(t) })
	good := func() map[string]any {
		b := signup("ayse@example.org")
		b["answers"] = map[string]any{"diet": "vegan", "photos": false}
		return b
	}
	cases := []struct {
		name   string
		change func(ans map[string]any)
		field  string
	}{
		{"missing required choice", func(m map[string]any) { delete(m, "diet") }, "answers.diet"},
		{"empty required choice", func(m map[string]any) { m["diet"] = "" }, "answers.diet"},
		{"null required answer", func(m map[string]any) { m["diet"] = nil }, "answers.diet"},
		{"missing required yes/no", func(m map[string]any) { delete(m, "photos") }, "answers.photos"},
		{"unknown option", func(m map[string]any) { m["diet"] = "kosher" }, "answers.diet"},
		{"unknown option in a list", func(m map[string]any) { m["needs"] = []any{"wheelchair", "parking"} }, "answers.needs"},
		{"choice as a number", func(m map[string]any) { m["diet"] = 3 }, "answers.diet"},
		{"multiple choice as a string", func(m map[string]any) { m["needs"] = "wheelchair" }, "answers.needs"},
		{"multiple choice with a number", func(m map[string]any) { m["needs"] = []any{1} }, "answers.needs"},
		{"yes/no as a string", func(m map[string]any) { m["photos"] = "yes" }, "answers.photos"},
		{"number as a string", func(m map[string]any) { m["children"] = "2" }, "answers.children"},
		{"number too large", func(m map[string]any) { m["children"] = 1e12 }, "answers.children"},
		{"text as a number", func(m map[string]any) { m["note"] = 5 }, "answers.note"},
		{"text too long", func(m map[string]any) { m["note"] = strings.Repeat("ü", 1001) }, "answers.note"},
		{"text with a control character", func(m map[string]any) { m["note"] = "a\x00b" }, "answers.note"},
		{"unknown key", func(m map[string]any) { m["shoe_size"] = "42" }, "answers.shoe_size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := good()
			tc.change(b["answers"].(map[string]any))
			e := a.postJSON(http.MethodPost, "/api/v1/events/fest/registrations", "", b).apiErr(t, http.StatusUnprocessableEntity, "invalid")
			if e.Fields[tc.field] == "" || len(e.Fields) != 1 {
				t.Fatalf("want only %s named: %v", tc.field, e.Fields)
			}
		})
	}
	t.Run("answers not an object", func(t *testing.T) {
		b := good()
		b["answers"] = []any{"vegan"}
		e := a.postJSON(http.MethodPost, "/api/v1/events/fest/registrations", "", b).apiErr(t, http.StatusUnprocessableEntity, "invalid")
		if e.Fields["answers"] == "" {
			t.Fatalf("fields %v", e.Fields)
		}
	})
	t.Run("answer errors come with the other field errors", func(t *testing.T) {
		b := good()
		b["name"] = ""
		delete(b["answers"].(map[string]any), "diet")
		e := a.postJSON(http.MethodPost, "/api/v1/events/fest/registrations", "", b).apiErr(t, http.StatusUnprocessableEntity, "invalid")
		if e.Fields["name"] == "" || e.Fields["answers.diet"] == "" {
			t.Fatalf("fields %v", e.Fields)
		}
	})
	if n := a.count(`SELECT count(*) FROM registrations`) + a.count(`SELECT seats_confirmed FROM events`); n != 0 {
		t.Fatalf("something was written: %d", n)
	}
	// An event without questions takes no answers.
	a.event(o.ID, "plain", nil)
	b := signup("x@example.org")
	b["answers"] = map[string]any{"diet": "vegan"}
	e := a.postJSON(http.MethodPost, "/api/v1/events/plain/registrations", "", b).apiErr(t, http.StatusUnprocessableEntity, "invalid")
	if e.Fields["answers.diet"] == "" {
		t.Fatalf("fields %v", e.Fields)
	}
}

// Valid answers are stored cleaned, shown to the person, in the organiser's
// list, and in the CSV with one column per question in order; door staff
// see the door questions' answers at check-in.
func TestAnswersShowInAPIExportAndCheckin(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	o := a.org("miso")
	ev := a.event(o.ID, "fest", func(in *event.Input) { in.Questions = questionsInput(t) })
	b := signup("ayse@example.org")
	b["answers"] = map[string]any{
		"diet": "halal", "needs": []any{"childcare", "wheelchair", "childcare"},
		"note": "  Komme mit Kinderwagen  ", "children": 2, "photos": false,
	}
	r := a.postJSON(http.MethodPost, "/api/v1/events/fest/registrations", "", b)
	r.wantStatus(t, http.StatusCreated)
	var reg struct {
		Answers map[string]any `json:"answers"`
		Tickets []struct {
			Code string `json:"code"`
		} `json:"tickets"`
	}
	if err := json.Unmarshal(r.Body, &reg); err != nil {
		t.Fatal(err)
	}
	wantAnswers := `{"children":2,"diet":"halal","needs":["wheelchair","childcare"],"note":"Komme mit Kinderwagen","photos":false}`
	if got, _ := json.Marshal(reg.Answers); string(got) != wantAnswers {
		t.Fatalf("answers %s, want %s", got, wantAnswers)
	}
	var stored string
	if err := a.DB.Get(&stored, `SELECT answers::text FROM registrations`); err != nil {
		t.Fatal(err)
	}
	var sm map[string]any
	_ = json.Unmarshal([]byte(stored), &sm)
	if got, _ := json.Marshal(sm); string(got) != wantAnswers {
		t.Fatalf("stored %s", stored)
	}
	// A second person answers only what is required.
	b2 := signup("tim@example.org")
	b2["answers"] = map[string]any{"diet": "vegan", "photos": true}
	a.postJSON(http.MethodPost, "/api/v1/events/fest/registrations", "", b2).wantStatus(t, http.StatusCreated)

	tok := a.token(o.ID, auth.Organiser)
	var list struct {
		Registrations []struct {
			Email   string         `json:"email"`
			Answers map[string]any `json:"answers"`
		} `json:"registrations"`
	}
	if err := json.Unmarshal(a.get("/api/v1/orgs/miso/events/fest/registrations", tok).Body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Registrations) != 2 || list.Registrations[0].Answers["diet"] != "halal" || list.Registrations[1].Answers["photos"] != true {
		t.Fatalf("organiser list: %+v", list.Registrations)
	}

	res := a.get("/api/v1/orgs/miso/events/fest/registrations.csv", tok)
	res.wantStatus(t, http.StatusOK)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(res.Body, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Join(rows[0], ",")
	if !strings.HasSuffix(head, ",checked_in,walk_in,changed_at,answer:diet,answer:needs,answer:note,answer:children,answer:photos") {
		t.Fatalf("header %s", head)
	}
	n := len(rows[0])
	if got := strings.Join(rows[1][n-5:], "|"); got != "Halal|Rollstuhlplatz, Kinderbetreuung|Komme mit Kinderwagen|2|no" {
		t.Fatalf("row 1 answers %q", got)
	}
	if got := strings.Join(rows[2][n-5:], "|"); got != "Vegan||||yes" {
		t.Fatalf("row 2 answers %q", got)
	}

	// Door staff see the answers of door questions only, in order.
	d := &door{app: a, Event: ev, Tok: a.token(o.ID, auth.Door), At: ev.StartsAt.Add(time.Hour)}
	a.Checkins.SetClock(func() time.Time { return d.At })
	scan := d.postJSON(http.MethodPost, "/api/v1/checkin", d.Tok, map[string]any{"code": reg.Tickets[0].Code, "event": "fest"})
	scan.wantStatus(t, http.StatusOK)
	var sc struct {
		Result   string `json:"result"`
		Attendee struct {
			Answers []struct {
				Key   string `json:"key"`
				Label string `json:"label"`
				Value any    `json:"value"`
				Text  string `json:"text"`
			} `json:"answers"`
		} `json:"attendee"`
	}
	if err := json.Unmarshal(scan.Body, &sc); err != nil {
		t.Fatal(err)
	}
	if sc.Result != "ok" || len(sc.Attendee.Answers) != 2 {
		t.Fatalf("scan %s", scan.Body)
	}
	if x := sc.Attendee.Answers[0]; x.Key != "needs" || x.Label != "Bedarf" || x.Text != "Rollstuhlplatz, Kinderbetreuung" {
		t.Fatalf("first door answer %+v", x)
	}
	if x := sc.Attendee.Answers[1]; x.Key != "photos" || x.Value != false || x.Text != "no" {
		t.Fatalf("second door answer %+v", x)
	}
	// A replayed scan shows them too.
	body := map[string]any{"code": reg.Tickets[0].Code, "event": "fest", "scan_id": "s-1"}
	d.postJSON(http.MethodPost, "/api/v1/checkin", d.Tok, body)
	again := d.postJSON(http.MethodPost, "/api/v1/checkin", d.Tok, body)
	if !bytes.Contains(again.Body, []byte(`"replayed":true`)) || !bytes.Contains(again.Body, []byte(`"key":"needs"`)) {
		t.Fatalf("replay %s", again.Body)
	}

	// Erasing the person clears the answers with the name.
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM registrations WHERE email = 'ayse@example.org'`); err != nil {
		t.Fatal(err)
	}
	if err := a.Registrations.EraseOne(context.Background(), ev.ID, id); err != nil {
		t.Fatal(err)
	}
	if n := a.count(`SELECT count(*) FROM registrations WHERE id = $1 AND answers = '{}'::jsonb AND name = ''`, id); n != 1 {
		t.Fatalf("answers not erased")
	}
}
