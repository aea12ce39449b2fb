package testapp

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"
)

// Logs is the app's log (JSON lines). It discards everything until a test
// asks for it with CaptureLogs, so that long tests do not pile up lines.
type Logs struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	capture bool
}

var _ io.Writer = (*Logs)(nil)

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.capture {
		l.buf.Write(p)
	}
	return len(p), nil
}

// CaptureLogs starts keeping the app's log lines and returns them.
func (a *App) CaptureLogs() *Logs {
	a.Logs.mu.Lock()
	defer a.Logs.mu.Unlock()
	a.Logs.capture = true
	return a.Logs
}

// String is every captured line.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Reset forgets the lines captured so far.
func (l *Logs) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
}

// Lines decodes the captured lines; level filters by slog level ("" = all).
func (l *Logs) Lines(level string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var m map[string]any
		if line == "" || json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		if level == "" || m["level"] == level {
			out = append(out, m)
		}
	}
	return out
}
