package main

import (
	"strings"
	"testing"
)

// The judge of the documents' examples finds what an answer does not show
// as the document does: a wrong status, a 5xx, a missing key, another
// error code, a failed earlier call; and takes what differs on every
// machine (ids, ticket codes, what the document elides with …).
func TestDocExampleJudgeFindsWhatDiffers(t *testing.T) {
	const md = "# Doc\n\n" +
		"```sh\ncurl -s http://localhost:8080/a\n```\n" +
		"```json\n{\"id\": 1, \"status\": \"confirmed\", \"tickets\": [{\"code\": \"AAA\", \"url\": \"…\"}], …}\n```\n\n" +
		"Prose.\n\n```json\n{\"not\": \"an output\"}\n```\n\n" +
		"<!-- example: skip (needs the mailed link) -->\n```sh\ncurl -s http://localhost:8080/b\n```\n\n" +
		"```sh\ncurl -s -i http://localhost:8080/c\n```\n```\nHTTP/1.1 409 Conflict\nRetry-After: 3\n…\n\n{\"error\": {\"code\": \"full\", \"message\": \"…\"}}\n```\n\n" +
		"```sh\ncurl -s http://localhost:8080/d | jq .error\n```\n```json\n{\"code\": \"invalid\", \"message\": \"x\", \"fields\": {\"name\": \"Required.\"}}\n```\n\n" +
		"```sh\necho 'not an example'\n```\n\n" +
		"  ```console\n  $ curl -s \\\n      http://localhost:8080/e\n  {\"ok\": true}\n  ```\n"
	exs := parseDocExamples("doc.md", md)
	if len(exs) != 5 || exs[1].skip != "(needs the mailed link)" || len(exs[0].outputs) != 1 || len(exs[2].outputs) != 1 {
		t.Fatalf("parsed %+v", exs)
	}
	if c := exs[4]; c.code != "curl -s \\\n    http://localhost:8080/e" || len(c.outputs) != 1 || c.outputs[0].text != `{"ok": true}` {
		t.Fatalf("console block parsed %+v", c)
	}
	expect := func(i int) expectation {
		e, err := expectationOf(exs[i])
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	ok := []curlCall{{200, "GET", "/a"}}
	cases := []struct {
		name  string
		e     expectation
		calls []curlCall
		out   string
		bad   string // a difference the judge must name; "" for none
	}{
		{"as shown", expect(0), ok, `{"id": 7, "status": "confirmed", "tickets": [{"code": "ZZZ", "url": "u"}], "more": 1}`, ""},
		{"another status value", expect(0), ok, `{"id": 7, "status": "waitlisted", "tickets": [{"code": "Z", "url": "u"}]}`, `.status: waitlisted`},
		{"a key missing", expect(0), ok, `{"id": 7, "status": "confirmed", "tickets": [{"code": "Z"}]}`, `key "url" missing`},
		{"the item shown further down", expect(0), ok, `{"id": 7, "status": "confirmed", "tickets": [{"code": "Z"}, {"code": "Y", "url": "u"}]}`, ""},
		{"a list empty", expect(0), ok, `{"id": 7, "status": "confirmed", "tickets": []}`, `.tickets: empty`},
		{"an error instead", expect(0), []curlCall{{404, "GET", "/a"}}, `{"error": {"code": "not_found"}}`, "implies success"},
		{"a 5xx before", expect(0), []curlCall{{500, "POST", "/x"}, {200, "GET", "/a"}}, `{"id": 1, "status": "confirmed", "tickets": [{"code": "", "url": ""}]}`, "POST /x: 500"},
		{"not JSON", expect(0), ok, `<html>`, "not JSON"},
		{"no request", expect(0), nil, ``, "no HTTP request"},
		{"status shown", expect(2), []curlCall{{409, "GET", "/c"}}, "HTTP/1.1 409 Conflict\r\nRetry-After: 3\r\n\r\n{\"error\":{\"code\":\"full\",\"message\":\"m\"}}", ""},
		{"another status", expect(2), []curlCall{{201, "GET", "/c"}}, "HTTP/1.1 201 Created\r\nRetry-After: 3\r\n\r\n{\"id\":1}", "status 201, the document shows 409"},
		{"a header missing", expect(2), []curlCall{{409, "GET", "/c"}}, "HTTP/1.1 409 Conflict\r\n\r\n{\"error\":{\"code\":\"full\",\"message\":\"m\"}}", "header Retry-After missing"},
		{"error code by jq", expect(3), []curlCall{{422, "GET", "/d"}}, `{"code": "invalid", "message": "y", "fields": {"name": "Pflichtfeld."}}`, ""},
		{"another error code", expect(3), []curlCall{{409, "GET", "/d"}}, `{"code": "conflict", "message": "y", "fields": {"name": "-"}}`, "status 409, the document shows 422"},
	}
	for _, c := range cases {
		bad := strings.Join(judge(c.e, c.calls, c.out), "\n")
		if c.bad == "" && bad != "" {
			t.Errorf("%s: judged %q", c.name, bad)
		}
		if c.bad != "" && !strings.Contains(bad, c.bad) {
			t.Errorf("%s: judged %q, want %q named", c.name, bad, c.bad)
		}
	}
}

// A document's JSON may leave out what does not matter with "…": as an
// object's member, a list's item, an object's whole content; inside a
// string it is a character.
func TestElidedJSONOfTheDocumentsReads(t *testing.T) {
	in := `{"slug": "x", …, "title": {…}, "events": [{"a": 1}, …], "url": "http://h/i/5f0c…e1.jpg",
  …
}`
	vals, err := decodeJSONStream(elideEllipses(in))
	if err != nil || len(vals) != 1 {
		t.Fatalf("%v %v", vals, err)
	}
	m := vals[0].(map[string]any)
	if m["url"] != "http://h/i/5f0c…e1.jpg" || len(m["events"].([]any)) != 1 || len(m) != 4 {
		t.Fatalf("read %v", m)
	}
}
