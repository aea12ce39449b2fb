package main

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/demo"
	"treffpunkt/internal/testapp"
)

// cliEnv makes the test binary the treffpunkt command, for the examples'
// bin/treffpunkt (token add, user add) without a build of its own.
const cliEnv = "TREFFPUNKT_TEST_RUN_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverEnv names a running server to try the examples on instead of a
// test app, with its DATABASE_URL: `make run` on a fresh database, whose
// real settings (rate limits, workers) the test app does not have.
const serverEnv = "DOCEXAMPLES_SERVER"

// docFiles are the documents whose curl examples are run, in this order,
// on one database: organisers.md builds on the applications that api.md
// makes, as a reader who follows both would.
var docFiles = []string{"api.md", "organisers.md", "checkin.md"}

// The curl examples of the documentation run, in document order, against
// the app with the demo data as `make run` serves it (issues 18, 19, 21):
// each must answer without a 5xx, with the status its document shows or
// implies, and with the keys of the answer it shows. An example the
// document marks `<!-- example: skip (why) -->` is not run.
func TestDocExamplesRunAgainstTheDemo(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing in CI (.ci/run installs it)", tool)
			}
			t.Skipf("%s missing: the documents' examples need it", tool)
		}
	}
	assertEveryDocWithExamplesIsRun(t)
	base, dbURL := os.Getenv(serverEnv), os.Getenv("DATABASE_URL")
	if base == "" {
		a := testapp.New(t)
		if err := demo.Load(context.Background(), demoServices(a.App), io.Discard, a.URL, time.Now()); err != nil {
			t.Fatalf("demo: %v", err)
		}
		base, dbURL = a.URL, a.DBURL
	} else if dbURL == "" {
		t.Fatalf("%s needs the server's DATABASE_URL too", serverEnv)
	}
	dir := readerCheckout(t, dbURL)

	sh := exec.Command("bash", "--noprofile", "--norc")
	sh.Dir = dir
	sh.Env = readerEnv(dir)
	in, err := sh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sh.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sh.Stderr = os.Stderr
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		_ = sh.Wait()
	})
	shell := &docShell{dir: dir, in: in, out: bufio.NewReader(out)}
	if _, _, err := shell.run(shellPrelude); err != nil {
		t.Fatal(err)
	}

	for _, name := range docFiles {
		src, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Fatal(err)
		}
		examples := parseDocExamples("docs/"+name, string(src))
		ran, skipped := 0, 0
		for _, ex := range examples {
			if ex.skip != "" {
				skipped++
				t.Logf("%s:%d: skipped: %s", ex.file, ex.line, ex.skip)
				continue
			}
			ran++
			want, err := expectationOf(ex)
			if err != nil {
				t.Error(err)
				continue
			}
			code := strings.ReplaceAll(ex.code, "http://localhost:8080", base)
			stdout, stderr, err := shell.run(code)
			if err != nil {
				t.Fatalf("%s:%d: %v", ex.file, ex.line, err)
			}
			calls := parseCurlCalls(stderr)
			for _, c := range calls {
				t.Logf("%s:%d: %s %s → %d", ex.file, ex.line, c.method, strings.TrimPrefix(c.url, base), c.status)
			}
			bad := judge(want, calls, stdout)
			for _, f := range failedCommands(stderr) {
				bad = append(bad, "command failed: "+f)
			}
			if len(bad) > 0 {
				t.Errorf("%s:%d: the example does not answer as the document shows:\n  %s\n--- example\n%s\n--- stdout\n%s\n--- stderr\n%s",
					ex.file, ex.line, strings.Join(bad, "\n  "), ex.code, excerpt(stdout, 3000), excerpt(stderr, 2000))
			}
		}
		t.Logf("docs/%s: %d examples, %d run, %d skipped", name, len(examples), ran, skipped)
	}
}

// assertEveryDocWithExamplesIsRun fails for a document (docs/*.md, the
// README) with a curl example against the local server that docFiles does
// not name, so that a new document's examples cannot rot unseen.
func assertEveryDocWithExamplesIsRun(t *testing.T) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	run := map[string]bool{}
	for _, f := range docFiles {
		run[f] = true
	}
	for _, f := range append(files, filepath.Join("..", "..", "README.md")) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range parseDocExamples(f, string(src)) {
			if strings.Contains(ex.code, "localhost:8080") && !run[filepath.Base(f)] {
				t.Errorf("%s:%d: a curl example against make run, but %s is not in docFiles", f, ex.line, filepath.Base(f))
				break
			}
		}
	}
}

// readerCheckout is the directory the examples run in, standing for a
// checkout after `make run`: bin/treffpunkt is this test binary as the
// command, scripts/pg.sh dev-url names the test database, and the files
// the examples upload are there.
func readerCheckout(t *testing.T, dbURL string) string {
	t.Helper()
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string, mode os.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("bin/treffpunkt", fmt.Sprintf("#!/bin/sh\n%s=1 exec %q \"$@\"\n", cliEnv, self), 0o755)
	write("scripts/pg.sh", fmt.Sprintf(`#!/bin/sh
case "$1" in
dev-url) echo %q ;;
*) echo "scripts/pg.sh $1: only dev-url stands in the documents' examples" >&2; exit 2 ;;
esac
`, dbURL), 0o755)
	// docs/organisers.md, "Member lists": the file a merge uploads.
	write("mitglieder.csv", "name,email,member_number,valid_until\n"+
		"Leyla Aydın,leyla@example.org,MISO-0101,2027-12-31\n"+
		"Reza Ahmadi,reza@example.org,MISO-0102,\n", 0o644)
	// docs/api.md, the event's picture.
	img := image.NewRGBA(image.Rect(0, 0, 480, 320))
	for x := 0; x < 480; x++ {
		for y := 0; y < 320; y++ {
			img.Set(x, y, color.RGBA{uint8(x / 2), uint8(y / 2), 120, 255})
		}
	}
	f, err := os.Create(filepath.Join(dir, "hof.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readerEnv is a reader's environment: no DATABASE_URL until an example
// sets it, and no proxy between curl and the local server.
func readerEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToLower(name) {
		case "database_url", "http_proxy", "https_proxy", "all_proxy", "no_proxy", "curl_home", "bash_env", "env":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+dir, "NO_PROXY=*")
}
