package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"treffpunkt/internal/testapp"
)

// Finding 1 of the security review: input longer than any address (254
// octets) is refused with 422 at login and reset before the throttle sees
// it, so it neither fills the throttle nor spends the client's attempts.
func TestOverlongEmailIsRefusedBeforeTheLoginThrottle(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	o := a.Org(t, "a")
	email := a.Staff(t, o, "organiser@a.example", "organiser", false)
	b := a.Browser(t)
	_, page := b.Get("/login")
	csrf := testapp.CSRF(t, page)
	long := strings.Repeat("a", 300) + "@a.example"
	for i := range 30 { // more than the 20 attempts one IP has
		path := "/login"
		if i%2 == 1 {
			path = "/login/reset"
		}
		resp, body := b.PostRaw(path, url.Values{"email": {fmt.Sprint(i, long)}, "password": {"x"}, "csrf_token": {csrf}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-email"`) {
			t.Fatalf("attempt %d at %s: %d, want 422 naming the email field", i+1, path, resp.StatusCode)
		}
		if strings.Contains(body, long) {
			t.Fatalf("the input is echoed back")
		}
	}
	b.Login(email, testapp.StaffPassword)
}

// Addresses are stored with the domain in punycode (finding 8): staff of an
// internationalised domain sign in and ask for a reset as they type it.
func TestStaffWithAnInternationalDomainSignInAsTheyTypeIt(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.Staff(t, a.Org(t, "a"), "anna@bücher.example", "organiser", false)
	if n := a.Count(t, `SELECT count(*) FROM staff_users WHERE email = 'anna@xn--bcher-kva.example'`); n != 1 {
		t.Fatalf("the account's domain is not stored in punycode")
	}
	a.Browser(t).Login("Anna@BÜCHER.example", testapp.StaffPassword)
	a.Browser(t).Login("anna@xn--bcher-kva.example", testapp.StaffPassword)
	_, _ = a.Browser(t).Post("/login/reset", "/login/reset", url.Values{"email": {"anna@Bücher.example"}})
	a.StaffMail.Last(t, "password_reset", "anna@xn--bcher-kva.example")
}

// The measurement of finding 1: distinct 60,000-character emails posted to
// /login from one IP must not pile up in memory. It reports the live heap
// after a GC and the process's RSS before and after; LOGIN_FLOOD_N sets the
// number of requests (default 1,200, as in the review; 5,000 for the
// figures in docs/operations.md). Skipped with -short.
//
// The memory is the process's, so the flood runs in a process of its own
// (this test binary again, running only this test): the test runs beside
// the others without their allocations in its figures.
func TestLoginFloodWithLongEmailsKeepsMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of 300 MB of requests")
	}
	if os.Getenv(floodChild) == "" {
		t.Parallel()
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoginFloodWithLongEmailsKeepsMemoryBounded$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), floodChild+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("the flood in its own process:\n%s", out)
		if err != nil {
			t.Fatalf("the flood's process: %v", err)
		}
		if !strings.Contains(string(out), "--- PASS: TestLoginFloodWithLongEmailsKeepsMemoryBounded") {
			t.Fatal("the flood's process did not run the test")
		}
		return
	}
	n := 1200 // the review's figure; the measurement in docs/operations.md used 5,000
	if raceEnabled {
		// Under the race detector a post costs ten times the CPU; 200
		// posts (12 MB of addresses) still show any address kept: the
		// bound below is a fifth of what they weigh.
		n = 200
	}
	if s := os.Getenv("LOGIN_FLOOD_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	a := testapp.New(t)
	b := a.Browser(t)
	_, page := b.Get("/login")
	csrf := testapp.CSRF(t, page)
	post := func(i int) int {
		email := strings.Repeat("a", 60_000-20) + fmt.Sprintf("%08d@example.org", i)
		resp, _ := b.PostRaw("/login", url.Values{"email": {email}, "password": {"wrong password"}, "csrf_token": {csrf}})
		return resp.StatusCode
	}
	post(-1) // warm up: templates, pools, buffers
	heap0, rss0 := memory()
	codes := map[int]int{}
	for i := range n {
		codes[post(i)]++
	}
	heap1, rss1 := memory()
	t.Logf("%d POST /login with distinct 60,000-character emails: answers %v; live heap %.1f → %.1f MB (%+.1f), RSS %.1f → %.1f MB (%+.1f)",
		n, codes, mb(heap0), mb(heap1), mb(heap1)-mb(heap0), mb(rss0), mb(rss1), mb(rss1)-mb(rss0))
	bound := min(20, float64(n)*60_000/5/(1<<20))
	if grow := mb(heap1) - mb(heap0); grow > bound {
		t.Errorf("the live heap grew by %.1f MB, want < %.1f", grow, bound)
	}
	// The race detector keeps shadow memory for every allocation and
	// never gives it back, so under -race (make test) the resident set
	// grows whatever the app keeps; the live heap above is the measure
	// there, and RSS is checked in a plain run (go test -run Flood).
	if grow := mb(rss1) - mb(rss0); grow > 20 && !raceEnabled {
		t.Errorf("RSS grew by %.1f MB, want < 20", grow)
	}
}

// floodChild marks the process that runs the flood.
const floodChild = "TREFFPUNKT_LOGIN_FLOOD_CHILD"

// memory is the live heap after a full GC and the process's resident set
// once the freed memory is given back: what stays is what is kept.
func memory() (heap, rss uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			rss = kb << 10
		}
	}
	return m.HeapAlloc, rss
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
