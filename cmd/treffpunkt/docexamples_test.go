package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// The curl examples of the documentation are run against the app with the
// demo data (docexamples_run_test.go). This file reads them out of the
// markdown and judges their answers; it knows nothing of the app.

// docExample is one shell block of a document with the blocks that show its
// answer: the fenced blocks that follow it with nothing but blank lines
// between.
type docExample struct {
	file string
	line int // of the opening fence
	code string
	skip string // why the document marks it not to be run
	// outputs are what the document shows the example answer.
	outputs []docBlock
}

type docBlock struct {
	info string
	line int
	text string
}

var (
	fenceRe = regexp.MustCompile("^( *)(```+|~~~+)[ \t]*([A-Za-z0-9_-]*)")
	skipRe  = regexp.MustCompile(`^<!--\s*example:\s*skip\b\s*(.*?)\s*-->$`)
)

// shellInfo are the info strings of shell blocks; a shell block is an
// example when it calls curl or the treffpunkt command.
var shellInfo = map[string]bool{"sh": true, "bash": true, "shell": true, "console": true}

func isExample(b docBlock) bool {
	return shellInfo[b.info] && (strings.Contains(b.text, "curl ") || strings.Contains(b.text, "bin/treffpunkt "))
}

// parseDocExamples returns the examples of one markdown document in order.
func parseDocExamples(file, src string) []docExample {
	lines := strings.Split(src, "\n")
	type fenced struct {
		docBlock
		end      int // line index after the closing fence
		previous string
	}
	var blocks []fenced
	for i := 0; i < len(lines); i++ {
		m := fenceRe.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		indent, fence := len(m[1]), m[2]
		var body []string
		j := i + 1
		for ; j < len(lines); j++ {
			t := strings.TrimSpace(lines[j])
			if strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
				break
			}
			l := lines[j]
			for k := 0; k < indent && strings.HasPrefix(l, " "); k++ {
				l = l[1:]
			}
			body = append(body, l)
		}
		prev := ""
		for k := i - 1; k >= 0; k-- {
			if t := strings.TrimSpace(lines[k]); t != "" {
				prev = t
				break
			}
		}
		blocks = append(blocks, fenced{docBlock{info: m[3], line: i + 1, text: strings.Join(body, "\n")}, j + 1, prev})
		i = j
	}
	// follows reports whether block b starts right after the block before
	// it, with only blank lines between.
	follows := func(b int) bool {
		for k := blocks[b-1].end; k < blocks[b].line-1; k++ {
			if strings.TrimSpace(lines[k]) != "" {
				return false
			}
		}
		return true
	}
	var out []docExample
	for b := 0; b < len(blocks); b++ {
		if !isExample(blocks[b].docBlock) {
			continue
		}
		ex := docExample{file: file, line: blocks[b].line, code: blocks[b].text}
		if m := skipRe.FindStringSubmatch(blocks[b].previous); m != nil {
			ex.skip = m[1]
			if ex.skip == "" {
				ex.skip = "(no reason given)"
			}
		}
		if blocks[b].info == "console" {
			ex.code, ex.outputs = splitConsole(blocks[b].docBlock)
		}
		for c := b + 1; c < len(blocks) && follows(c) && !shellInfo[blocks[c].info]; c++ {
			ex.outputs = append(ex.outputs, blocks[c].docBlock)
			b = c
		}
		out = append(out, ex)
	}
	return out
}

// splitConsole parts a console block into its commands (lines after "$ ",
// with their continuation lines) and the output it shows.
func splitConsole(b docBlock) (string, []docBlock) {
	var code, shown []string
	cont := false
	for _, l := range strings.Split(b.text, "\n") {
		switch {
		case strings.HasPrefix(l, "$ "):
			code = append(code, strings.TrimPrefix(l, "$ "))
			cont = strings.HasSuffix(l, "\\")
		case cont:
			code = append(code, l)
			cont = strings.HasSuffix(l, "\\")
		default:
			shown = append(shown, l)
		}
	}
	if len(code) == 0 {
		return b.text, nil
	}
	var outs []docBlock
	if s := strings.TrimSpace(strings.Join(shown, "\n")); s != "" {
		info := ""
		if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
			info = "json"
		}
		outs = append(outs, docBlock{info: info, line: b.line, text: s})
	}
	return strings.Join(code, "\n"), outs
}

// curlCall is one HTTP exchange of an example, as the curl wrapper of the
// runner reports it.
type curlCall struct {
	status int
	method string
	url    string
}

var curlLineRe = regexp.MustCompile(`^@@curl (\d{3}) (\S+) (\S+)$`)

func parseCurlCalls(stderr string) []curlCall {
	var calls []curlCall
	for _, l := range strings.Split(stderr, "\n") {
		if m := curlLineRe.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			st, _ := strconv.Atoi(m[1])
			calls = append(calls, curlCall{st, m[2], m[3]})
		}
	}
	return calls
}

// errorStatus is the HTTP status of each error code (internal/httpcode;
// docs/api.md, "Errors").
var errorStatus = map[string]int{
	"bad_request": 400, "unauthorized": 401, "forbidden": 403, "members_only": 403, "age": 403,
	"not_found": 404, "full": 409, "session_full": 409, "conflict": 409, "closed": 410,
	"too_large": 413, "unsupported_media_type": 415, "invalid": 422, "rate_limited": 429,
}

// valueKeys are the keys whose values an example's answer must show as
// the document does: the outcome (status, verdict, error code), not the
// ids, codes and times that differ on every machine. "code" counts in an
// error only (a ticket's code differs).
var valueKeys = map[string]bool{
	"code": true, "status": true, "session_status": true, "registration_state": true,
	"result": true, "walk_in": true, "existing": true, "check_email": true,
}

// optionalKeys are documented as absent at times: next_before on the last
// page of the audit log, by_age_band for events that ask no birth date,
// cancelled for a session that is not.
var optionalKeys = map[string]bool{"next_before": true, "by_age_band": true, "cancelled": true}

// dataKeys hold objects whose keys are data (a language, an age band, a
// category with a count, an audit entry's details), so the keys a
// document shows from its own run need not be there.
var dataKeys = map[string]bool{"by_lang": true, "by_age_band": true, "members": true, "details": true}

// expectation is what an example's shown answer promises.
type expectation struct {
	status  int  // exact status of the last call, 0 when not shown
	failing bool // the answer is an error: 4xx
	headers []string
	values  []any    // JSON values shown, in order
	csv     []string // the columns of a CSV shown
}

func expectationOf(ex docExample) (expectation, error) {
	var e expectation
	for _, o := range ex.outputs {
		text := o.text
		if strings.HasPrefix(text, "HTTP/") {
			head, body, _ := strings.Cut(text, "\n\n")
			hl := strings.Split(head, "\n")
			f := strings.Fields(hl[0])
			if len(f) < 2 {
				return e, fmt.Errorf("%s:%d: status line %q", ex.file, o.line, hl[0])
			}
			st, err := strconv.Atoi(f[1])
			if err != nil {
				return e, fmt.Errorf("%s:%d: status line %q", ex.file, o.line, hl[0])
			}
			e.status = st
			for _, h := range hl[1:] {
				if name, _, ok := strings.Cut(h, ":"); ok && !strings.Contains(name, " ") {
					e.headers = append(e.headers, name)
				}
			}
			text = strings.TrimSpace(body)
			if text == "" || text == "…" {
				continue
			}
			if !strings.HasPrefix(text, "{") && !strings.HasPrefix(text, "[") {
				e.csv = strings.Split(strings.SplitN(text, "\n", 2)[0], ",")
				continue
			}
		} else if o.info != "json" {
			continue
		}
		vals, err := decodeJSONStream(elideEllipses(text))
		if err != nil {
			return e, fmt.Errorf("%s:%d: the answer shown is not JSON (… aside): %v", ex.file, o.line, err)
		}
		e.values = append(e.values, vals...)
	}
	if e.status == 0 && len(e.values) > 0 {
		if code, ok := errorCode(e.values[len(e.values)-1]); ok {
			e.failing = true
			e.status = errorStatus[code]
		}
	}
	return e, nil
}

// errorCode reads an error answer: {"error": {"code": …}}, or its inner
// object when the example shows only `jq .error`.
func errorCode(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	if inner, ok := m["error"].(map[string]any); ok && len(m) == 1 {
		m = inner
	} else if _, ok := m["message"]; !ok || len(m) > 3 {
		return "", false
	}
	code, ok := m["code"].(string)
	return code, ok
}

// elideEllipses removes the "…" that documents put for what they leave out
// (outside strings), and the commas around it, so that the rest is JSON.
func elideEllipses(s string) string {
	var b strings.Builder
	in, esc := false, false
	for _, r := range s {
		switch {
		case esc:
			esc = false
		case in && r == '\\':
			esc = true
		case r == '"':
			in = !in
		case !in && r == '…':
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`,(\s*,)+`), regexp.MustCompile(`,\s*([}\]])`), regexp.MustCompile(`([{\[])\s*,`),
	} {
		for {
			next := re.ReplaceAllStringFunc(out, func(m string) string {
				switch {
				case strings.HasSuffix(m, "}") || strings.HasSuffix(m, "]"):
					return m[len(m)-1:]
				case strings.HasPrefix(m, "{") || strings.HasPrefix(m, "["):
					return m[:1]
				}
				return ","
			})
			if next == out {
				break
			}
			out = next
		}
	}
	return out
}

func decodeJSONStream(s string) ([]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var vals []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return vals, nil
		}
		if err != nil {
			return vals, err
		}
		vals = append(vals, v)
	}
}

// splitHTTP takes the header part off an output that starts with one
// (curl -i, -D -), returning the header names and the rest.
func splitHTTP(out string) (headers map[string]bool, body string) {
	if !strings.HasPrefix(out, "HTTP/") {
		return nil, out
	}
	head, body, _ := strings.Cut(strings.ReplaceAll(out, "\r\n", "\n"), "\n\n")
	headers = map[string]bool{}
	for _, h := range strings.Split(head, "\n")[1:] {
		if name, _, ok := strings.Cut(h, ":"); ok {
			headers[strings.ToLower(name)] = true
		}
	}
	return headers, body
}

// judge compares what an example did with what its document shows and
// returns every difference.
func judge(e expectation, calls []curlCall, stdout string) []string {
	var bad []string
	if len(calls) == 0 && (e.status != 0 || len(e.values) > 0 || len(e.csv) > 0) {
		return []string{"no HTTP request was made, the document shows an answer"}
	}
	for i, c := range calls {
		last := i == len(calls)-1
		switch {
		case c.status == 0:
			bad = append(bad, fmt.Sprintf("%s %s: no answer", c.method, c.url))
		case c.status >= 500:
			bad = append(bad, fmt.Sprintf("%s %s: %d", c.method, c.url, c.status))
		case last && e.status != 0 && c.status != e.status:
			bad = append(bad, fmt.Sprintf("%s %s: status %d, the document shows %d", c.method, c.url, c.status, e.status))
		case last && e.status == 0 && c.status >= 300:
			bad = append(bad, fmt.Sprintf("%s %s: status %d, the document implies success", c.method, c.url, c.status))
		case !last && c.status >= 400:
			bad = append(bad, fmt.Sprintf("%s %s: status %d before the call the document shows", c.method, c.url, c.status))
		}
	}
	headers, body := splitHTTP(stdout)
	// With curl -D - -o file; cat file, the headers come first and the file
	// after them.
	for _, h := range e.headers {
		if headers != nil && !headers[strings.ToLower(h)] {
			bad = append(bad, fmt.Sprintf("header %s missing", h))
		}
	}
	if len(e.csv) > 0 {
		first := strings.TrimPrefix(strings.SplitN(strings.ReplaceAll(body, "\r\n", "\n"), "\n", 2)[0], "\ufeff")
		have := map[string]bool{}
		for _, c := range strings.Split(first, ",") {
			have[c] = true
		}
		for _, c := range e.csv {
			if !have[c] {
				bad = append(bad, fmt.Sprintf("CSV column %s missing in %q", c, first))
			}
		}
	}
	if len(e.values) == 0 {
		return bad
	}
	got, err := decodeJSONStream(body)
	if err != nil {
		return append(bad, fmt.Sprintf("the answer is not JSON: %v", err))
	}
	if len(got) < len(e.values) {
		return append(bad, fmt.Sprintf("%d JSON values in the answer, the document shows %d", len(got), len(e.values)))
	}
	// The values shown are the last ones printed: a block may first make
	// what it then shows.
	got = got[len(got)-len(e.values):]
	for i := range e.values {
		compareShape("", e.values[i], got[i], &bad)
	}
	return bad
}

// compareShape wants every key the document shows in the answer, at the
// same place, and the values of valueKeys equal.
func compareShape(path string, doc, got any, bad *[]string) {
	switch d := doc.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*bad = append(*bad, fmt.Sprintf("%s: an object in the document, %s in the answer", orRoot(path), kind(got)))
			return
		}
		for k, dv := range d {
			gv, ok := g[k]
			if !ok {
				if !optionalKeys[k] {
					*bad = append(*bad, fmt.Sprintf("%s: key %q missing", orRoot(path), k))
				}
				continue
			}
			if dataKeys[k] {
				continue
			}
			if valueKeys[k] && (k != "code" || path == "" || strings.HasSuffix(path, ".error")) {
				if ds, ok := dv.(string); ok && gv != ds {
					*bad = append(*bad, fmt.Sprintf("%s.%s: %v, the document shows %q", path, k, gv, ds))
				}
				if db, ok := dv.(bool); ok && gv != db {
					*bad = append(*bad, fmt.Sprintf("%s.%s: %v, the document shows %v", path, k, gv, db))
				}
			}
			compareShape(path+"."+k, dv, gv, bad)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			*bad = append(*bad, fmt.Sprintf("%s: a list in the document, %s in the answer", orRoot(path), kind(got)))
			return
		}
		if len(d) > 0 && len(g) == 0 {
			*bad = append(*bad, fmt.Sprintf("%s: empty, the document shows %d items", orRoot(path), len(d)))
			return
		}
		// Each item shown must have its like in the answer, wherever it
		// stands there: a document's list comes from its own run (another
		// event first, a longer list). Else the nearest item's differences
		// are named.
		for i := range d {
			var nearest []string
			for j := range g {
				var diff []string
				compareShape(fmt.Sprintf("%s[%d]", path, i), d[i], g[j], &diff)
				if len(diff) == 0 {
					nearest = nil
					break
				}
				if nearest == nil || len(diff) < len(nearest) {
					nearest = diff
				}
			}
			*bad = append(*bad, nearest...)
		}
	}
}

func orRoot(path string) string {
	if path == "" {
		return "answer"
	}
	return path
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", v)
}

// docShell is one bash process that runs the examples in turn, so that a
// variable one example sets (TOKEN, MANAGE) is there for the next, as in
// a reader's terminal.
type docShell struct {
	dir   string
	in    io.WriteCloser
	out   *bufio.Reader
	count int
}

// shellPrelude wraps curl so that every exchange reports its status on
// stderr, and marks every command that fails.
const shellPrelude = `set -E -o pipefail
curl() { command curl -sS --max-time 60 -w '%{stderr}@@curl %{http_code} %{method} %{url_effective}\n' "$@"; }
trap 'echo "@@failed $? $BASH_COMMAND" >&2' ERR
`

// run runs code in the shell and returns its output.
func (s *docShell) run(code string) (stdout, stderr string, err error) {
	s.count++
	base := filepath.Join(s.dir, fmt.Sprintf(".example-%03d", s.count))
	if err := os.WriteFile(base+".sh", []byte(code+"\n"), 0o600); err != nil {
		return "", "", err
	}
	marker := fmt.Sprintf("@@done-%d", s.count)
	fmt.Fprintf(s.in, "source %q > %q 2> %q < /dev/null; echo %s\n", base+".sh", base+".out", base+".err", marker)
	for {
		l, err := s.out.ReadString('\n')
		if err != nil {
			return "", "", fmt.Errorf("shell ended: %w", err)
		}
		if strings.TrimSpace(l) == marker {
			break
		}
	}
	o, _ := os.ReadFile(base + ".out")
	e, _ := os.ReadFile(base + ".err")
	return string(o), string(e), nil
}

// failedCommands are the commands of an example that failed (a jq that
// found no JSON, a missing file), as the shell's ERR trap marks them.
func failedCommands(stderr string) []string {
	var f []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "@@failed ") {
			f = append(f, strings.TrimPrefix(l, "@@failed "))
		}
	}
	return f
}

func excerpt(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
