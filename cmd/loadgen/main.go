// Command loadgen is the registration-rush load tool: it creates an event
// with capacity C through the organiser API, fires N sign-ups with unique
// emails at concurrency K against one or more app instances, then checks the
// outcome through the organiser API (confirmed seats == capacity, every
// accepted sign-up stored, waitlist positions 1…W each once) and prints
// throughput and latency percentiles.
//
// With -sessions N the event has N+1 workshop sessions of large capacity,
// one after the other, and each sign-up chooses N of them (sign-up i leaves
// out session i mod N+1), so that a rush with sessions can be compared with
// one without; the check then also wants every confirmed registration to
// hold its N places.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	urls     []string
	org      string
	token    string
	capacity int
	n        int
	k        int
	form     bool
	slug     string
	sessions int
}

func main() {
	var o options
	var urls string
	flag.StringVar(&urls, "urls", "http://127.0.0.1:8080", "comma-separated base URLs of the app instances")
	flag.StringVar(&o.org, "org", "miso", "organisation slug")
	flag.StringVar(&o.token, "token", os.Getenv("TREFFPUNKT_TOKEN"), "organiser API token (or TREFFPUNKT_TOKEN)")
	flag.IntVar(&o.capacity, "capacity", 1000, "capacity of the event")
	flag.IntVar(&o.n, "n", 20000, "number of sign-ups")
	flag.IntVar(&o.k, "c", 256, "concurrent clients")
	flag.BoolVar(&o.form, "form", false, "sign up through the HTML form instead of the JSON API")
	flag.StringVar(&o.slug, "slug", "", "event slug (default: rush-<time>)")
	flag.IntVar(&o.sessions, "sessions", 0, "sessions each sign-up chooses (the event gets one more; 0: none, at most 49)")
	flag.Parse()
	if o.sessions < 0 || o.sessions > 49 {
		fmt.Fprintln(os.Stderr, "loadgen: -sessions must be 0…49 (an event has at most 50 sessions)")
		os.Exit(2)
	}
	o.urls = strings.Split(urls, ",")
	if o.slug == "" {
		o.slug = fmt.Sprintf("rush-%d", time.Now().UnixNano())
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.token == "" {
		return errors.New("-token is required (treffpunkt token add --org ORG --role organiser)")
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        o.k * 2,
			MaxIdleConnsPerHost: o.k,
			IdleConnTimeout:     60 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if err := createEvent(client, o); err != nil {
		return err
	}
	path := "JSON API"
	if o.form {
		path = "HTML form"
	}
	offered := 0
	if o.sessions > 0 {
		offered = o.sessions + 1
	}
	fmt.Printf("event %s: capacity %d, %d sign-ups, %d clients, %d instance(s), %s, %d sessions chosen of %d\n",
		o.slug, o.capacity, o.n, o.k, len(o.urls), path, o.sessions, offered)

	var next atomic.Int64
	lat := make([]time.Duration, o.n)
	codes := make([]int, o.n)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range o.k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := o.urls[w%len(o.urls)]
			s := &signer{client: client, base: base, slug: o.slug, sessions: o.sessions}
			if o.form {
				if err := s.prepareForm(); err != nil {
					fmt.Fprintln(os.Stderr, "loadgen: form:", err)
					return
				}
			}
			for {
				i := int(next.Add(1)) - 1
				if i >= o.n {
					return
				}
				t0 := time.Now()
				codes[i] = s.signUp(i, o.form)
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	byCode := map[int]int{}
	accepted := 0
	for _, c := range codes {
		byCode[c]++
		if c == http.StatusCreated || c == http.StatusSeeOther {
			accepted++
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("accepted %d of %d in %.2fs: %.0f sign-ups/s\n", accepted, o.n, elapsed.Seconds(), float64(accepted)/elapsed.Seconds())
	fmt.Printf("latency p50 %v  p90 %v  p99 %v  max %v\n", pct(.50).Round(time.Microsecond), pct(.90).Round(time.Microsecond), pct(.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	fmt.Printf("status codes: %v\n", byCode)
	return check(client, o, accepted)
}

type signer struct {
	client   *http.Client
	base     string
	slug     string
	csrf     string
	jar      http.CookieJar
	sessions int
}

// sessionKey is the key of the event's session j.
func sessionKey(j int) string { return fmt.Sprintf("ws%d", j+1) }

// choice is what sign-up i chooses: every session but i mod (n+1).
func choice(i, n int) []string {
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for j := range n + 1 {
		if j != i%(n+1) {
			out = append(out, sessionKey(j))
		}
	}
	return out
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// prepareForm loads the event page once, as a browser would, for the CSRF
// cookie and token that every later post of this client reuses.
func (s *signer) prepareForm() error {
	jar, _ := cookiejar.New(nil)
	s.jar = jar
	req, _ := http.NewRequest(http.MethodGet, s.base+"/events/"+s.slug, nil)
	resp, err := s.do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("no CSRF token on %s (status %d)", req.URL, resp.StatusCode)
	}
	s.csrf = strings.ReplaceAll(string(m[1]), "&#43;", "+")
	return nil
}

func (s *signer) do(req *http.Request) (*http.Response, error) {
	if s.jar != nil {
		for _, c := range s.jar.Cookies(req.URL) {
			req.AddCookie(c)
		}
	}
	resp, err := s.client.Do(req)
	if err == nil && s.jar != nil {
		s.jar.SetCookies(req.URL, resp.Cookies())
	}
	return resp, err
}

func (s *signer) signUp(i int, form bool) int {
	var req *http.Request
	email := fmt.Sprintf("rush%07d@example.org", i)
	if form {
		v := url.Values{"name": {fmt.Sprintf("Person %d", i)}, "email": {email}, "party_size": {"1"}, "consent": {"yes"}, "csrf_token": {s.csrf}}
		if keys := choice(i, s.sessions); keys != nil {
			v["session"] = keys
		}
		req, _ = http.NewRequest(http.MethodPost, s.base+"/events/"+s.slug+"/register", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.base)
	} else {
		body := fmt.Sprintf(`{"name":"Person %d","email":%q,"party_size":1,"consent":true}`, i, email)
		if keys := choice(i, s.sessions); keys != nil {
			b, _ := json.Marshal(keys)
			body = body[:len(body)-1] + `,"sessions":` + string(b) + `}`
		}
		req, _ = http.NewRequest(http.MethodPost, s.base+"/api/v1/events/"+s.slug+"/registrations", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func createEvent(client *http.Client, o options) error {
	start := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Hour)
	length := 6 * time.Hour
	ev := map[string]any{
		"slug": o.slug, "kind": "festival", "status": "published",
		"title":    map[string]string{"de": "Ansturm " + o.slug},
		"capacity": o.capacity, "waitlist": true, "max_party_size": 1,
	}
	if o.sessions > 0 {
		// Half an hour each, one after the other (none overlap), with
		// room for everybody: the rush measures the bookkeeping of
		// places, not who gets one.
		var ss []map[string]any
		for j := range o.sessions + 1 {
			at := start.Add(time.Duration(j) * 30 * time.Minute)
			ss = append(ss, map[string]any{
				"key": sessionKey(j), "title": map[string]string{"de": "Workshop " + sessionKey(j)},
				"starts_at": at.Format(time.RFC3339), "ends_at": at.Add(30 * time.Minute).Format(time.RFC3339),
				"capacity": min(max(o.n, 1), 1_000_000),
			})
		}
		ev["sessions"] = ss
		length = max(length, time.Duration(o.sessions+1)*30*time.Minute)
	}
	ev["starts_at"], ev["ends_at"] = start.Format(time.RFC3339), start.Add(length).Format(time.RFC3339)
	body, _ := json.Marshal(ev)
	req, _ := http.NewRequest(http.MethodPost, o.urls[0]+"/api/v1/orgs/"+o.org+"/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+o.token)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("create event: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("create event: %d %s", resp.StatusCode, b)
	}
	return nil
}

// check reads the registrations back through the organiser API and verifies
// the rules: exactly capacity seats confirmed, every accepted sign-up
// stored, waitlist positions 1…W each once.
func check(client *http.Client, o options, accepted int) error {
	req, _ := http.NewRequest(http.MethodGet, o.urls[0]+"/api/v1/orgs/"+o.org+"/events/"+o.slug+"/registrations", nil)
	req.Header.Set("Authorization", "Bearer "+o.token)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("read registrations: %w", err)
	}
	defer resp.Body.Close()
	var list struct {
		Registrations []struct {
			Status           string `json:"status"`
			PartySize        int    `json:"party_size"`
			WaitlistPosition *int   `json:"waitlist_position"`
			Sessions         []struct {
				Status string `json:"status"`
			} `json:"sessions"`
		} `json:"registrations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return fmt.Errorf("read registrations: %d: %w", resp.StatusCode, err)
	}
	seats, waitlisted, short := 0, 0, 0
	positions := map[int]bool{}
	for _, r := range list.Registrations {
		switch r.Status {
		case "confirmed":
			seats += r.PartySize
			held := 0
			for _, c := range r.Sessions {
				if c.Status == "confirmed" {
					held++
				}
			}
			if held != o.sessions {
				short++
			}
		case "waitlisted":
			waitlisted++
			if r.WaitlistPosition != nil {
				positions[*r.WaitlistPosition] = true
			}
		}
	}
	fmt.Printf("stored %d registrations: %d seats confirmed (capacity %d), %d waitlisted\n", len(list.Registrations), seats, o.capacity, waitlisted)
	var problems []string
	if seats != min(o.capacity, accepted) {
		problems = append(problems, fmt.Sprintf("confirmed seats %d, want %d", seats, min(o.capacity, accepted)))
	}
	if short > 0 {
		problems = append(problems, fmt.Sprintf("%d confirmed registrations without their %d session places", short, o.sessions))
	}
	if len(list.Registrations) != accepted {
		problems = append(problems, fmt.Sprintf("stored %d, accepted %d", len(list.Registrations), accepted))
	}
	for p := 1; p <= waitlisted; p++ {
		if !positions[p] {
			problems = append(problems, fmt.Sprintf("waitlist position %d missing", p))
			break
		}
	}
	if len(problems) > 0 {
		return errors.New("CHECK FAILED: " + strings.Join(problems, "; "))
	}
	fmt.Println("check: OK (no oversell, every accepted sign-up stored, waitlist positions 1…W)")
	return nil
}
