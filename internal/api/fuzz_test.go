package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/testapp"
)

// FuzzSignupJSON throws arbitrary bodies at the sign-up endpoint through
// the real router: decoding and validation must answer every one with a
// client error in the API's error shape (or a registration), never a 5xx.
// Seed corpus: testdata/fuzz/FuzzSignupJSON; `make fuzz` runs it briefly.
func FuzzSignupJSON(f *testing.F) {
	a := testapp.New(f)
	o := a.Org(f, "miso")
	a.Event(f, o, "fest", func(in *event.Input) {
		in.Capacity = event.Some(1_000_000)
		in.MinAge = event.Some(16)
	})
	f.Add([]byte(`{"name":"Ayşe Yılmaz","email":"ayse@example.org","party_size":2,"lang":"tr","birth_date":"1990-05-01","consent":true}`))
	f.Add([]byte(`{"name":"","email":"nope","party_size":0,"lang":"xx","consent":false}`))
	f.Add([]byte(`{"name":"A","email":"a@example.org","party_size":1e9,"consent":true,"answers":{"x":[1,{"y":null}]}}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte(`{"name":"\u0000\ud800","email":"x@y","birth_date":"2999-01-01","consent":"yes"}`))
	f.Add([]byte(``))
	client := &http.Client{}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/api/v1/events/fest/registrations", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK, http.StatusCreated:
			var r struct{ Status string }
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatalf("%d with a body that is not JSON: %s", resp.StatusCode, raw)
			}
			if resp.StatusCode == http.StatusCreated && r.Status != "confirmed" {
				t.Fatalf("201 with status %q", r.Status)
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusConflict, http.StatusGone,
			http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			var e struct {
				Error struct {
					Code, Message string
					Fields        map[string]string
				}
			}
			if err := json.Unmarshal(raw, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%d without the error shape: %s", resp.StatusCode, raw)
			}
			if s := httpcode.Of(apperr.New(e.Error.Code, "")); s != resp.StatusCode {
				t.Fatalf("status %d with code %q (which is %d)", resp.StatusCode, e.Error.Code, s)
			}
			for field, msg := range e.Error.Fields {
				if msg == "" {
					t.Fatalf("field %q without a message: %s", field, raw)
				}
			}
		default:
			t.Fatalf("status %d for %q: %s", resp.StatusCode, body, raw)
		}
	})
}
