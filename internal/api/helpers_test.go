package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"treffpunkt/internal/event"
	"treffpunkt/internal/org"
	"treffpunkt/internal/testapp"
)

// app is the whole application (testapp) with the helpers these tests use.
type app struct {
	*testapp.App
	t *testing.T
}

func newApp(t *testing.T) *app { return &app{App: testapp.New(t), t: t} }

func (a *app) org(slug string) *org.Org { return a.Org(a.t, slug) }

func (a *app) token(orgID int64, role string) string {
	return a.Token(a.t, &org.Org{ID: orgID}, role)
}

func ptr[T any](v T) *T { return &v }

// event creates a published event a week ahead: capacity 10, parties of up
// to 4, German title; mod changes the input first.
func (a *app) event(orgID int64, slug string, mod func(*event.Input)) *event.Event {
	a.t.Helper()
	return a.Event(a.t, &org.Org{ID: orgID}, slug, func(in *event.Input) {
		in.Kind = ptr("conference")
		in.Title = event.Texts{"de": "Konferenz " + slug}
		in.Description = event.Texts{"de": "Beschreibung"}
		in.Capacity, in.MaxPartySize = event.Some(10), ptr(4)
		if mod != nil {
			mod(in)
		}
	})
}

func (a *app) count(query string, args ...any) int {
	a.t.Helper()
	return a.Count(a.t, query, args...)
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// request is one HTTP call; zero fields are left out.
type request struct {
	Method      string
	Path        string
	ContentType string
	Body        string
	Token       string
	Header      map[string]string
}

func (a *app) do(r request) *response {
	a.t.Helper()
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequest(r.Method, a.URL+r.Path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// postJSON sends v (or v itself when it is a string) as application/json.
func (a *app) postJSON(method, path, token string, v any) *response {
	a.t.Helper()
	s, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			a.t.Fatal(err)
		}
		s = string(b)
	}
	return a.do(request{Method: method, Path: path, ContentType: "application/json", Body: s, Token: token})
}

func (a *app) get(path, token string) *response {
	a.t.Helper()
	return a.do(request{Method: http.MethodGet, Path: path, Token: token})
}

// object decodes a JSON object answer.
func (r *response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(r.Body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields"`
}

// apiErr checks the status and the error body and returns the error.
func (r *response) apiErr(t *testing.T, status int, code string) apiError {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	var body struct {
		Error apiError `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("error body: %v\n%s", err, r.Body)
	}
	if body.Error.Code != code {
		t.Fatalf("error code %q, want %q: %s", body.Error.Code, code, r.Body)
	}
	if body.Error.Message == "" || strings.HasPrefix(body.Error.Message, "err.") {
		t.Errorf("error message %q is not a translated text", body.Error.Message)
	}
	for f, m := range body.Error.Fields {
		if m == "" || strings.HasPrefix(m, "err.") {
			t.Errorf("field %s: message %q is not a translated text", f, m)
		}
	}
	return body.Error
}

func (r *response) wantStatus(t *testing.T, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}

// signup is a valid sign-up body.
func signup(email string) map[string]any {
	return map[string]any{"name": "Ayşe Yılmaz", "email": email, "consent": true}
}
