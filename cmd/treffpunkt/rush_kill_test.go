package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"treffpunkt/internal/event"
	"treffpunkt/internal/testapp"
	"treffpunkt/internal/testutil"
)

// A rush over two `treffpunkt serve` processes, one of which is killed
// (SIGKILL, mid-batch as likely as not) halfway: the database stays the
// judge, so nothing is oversold, every sign-up a client saw accepted is
// stored as answered, and the waitlist has no gaps.
func TestRushSurvivesAnInstanceKilledMidway(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	a := testapp.New(t)
	o := a.Org(t, "rush")
	const capacity = 150
	two := 2
	a.Event(t, o, "fest", func(in *event.Input) {
		in.Capacity = event.Some(capacity)
		in.MaxPartySize = &two
	})

	bin := filepath.Join(t.TempDir(), "treffpunkt")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	start := func() (*exec.Cmd, string) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		cmd := exec.Command(bin, "serve", "--no-migrate", "--no-workers")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+a.DBURL, "LISTEN_ADDR="+addr,
			"BASE_URL=http://"+addr, "SIGNUP_RATE_PER_IP=0")
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("instance %s:\n%s", addr, logs.String())
			}
		})
		url := "http://" + addr
		testutil.Eventually(t, 20*time.Second, func() bool {
			resp, err := http.Get(url + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, "instance "+addr+" ready") // the cleanup above logs its output
		return cmd, url
	}
	victim, urlA := start()
	_, urlB := start()

	type answer struct {
		ID               int64  `json:"id"`
		Status           string `json:"status"`
		WaitlistPosition *int   `json:"waitlist_position"`
		PartySize        int    `json:"party_size"`
	}
	const n, clients = 1200, 48
	var (
		mu       sync.Mutex
		accepted []answer
		sent     atomic.Int64
		killed   atomic.Bool
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 30 * time.Second}
	next := atomic.Int64{}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > n {
					return
				}
				url := urlA
				if (int(i)+c)%2 == 0 {
					url = urlB
				}
				if i == n/3 && killed.CompareAndSwap(false, true) {
					_ = victim.Process.Signal(syscall.SIGKILL)
				}
				body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("P %d", i), "email": fmt.Sprintf("p%d@example.org", i), "party_size": 1 + i%2, "consent": true})
				sent.Add(1)
				resp, err := client.Post(url+"/api/v1/events/fest/registrations", "application/json", bytes.NewReader(body))
				if err != nil {
					continue // the killed instance: not accepted
				}
				var ans answer
				err = json.NewDecoder(resp.Body).Decode(&ans)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated || err != nil {
					if url == urlB {
						t.Errorf("surviving instance answered %d (%v)", resp.StatusCode, err)
						return
					}
					continue
				}
				mu.Lock()
				accepted = append(accepted, ans)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if !killed.Load() {
		t.Fatal("the instance was never killed")
	}

	// Every accepted answer is stored as answered.
	type row struct {
		ID       int64  `db:"id"`
		Status   string `db:"status"`
		Party    int    `db:"party_size"`
		Position int    `db:"position"`
	}
	var rows []row
	if err := a.DB.Select(&rows, `
SELECT id, status, party_size,
       CASE WHEN status = 'waitlisted' THEN count(*) FILTER (WHERE status = 'waitlisted') OVER (ORDER BY waitlist_order) ELSE 0 END AS position
FROM registrations ORDER BY waitlist_order`); err != nil {
		t.Fatal(err)
	}
	byID := map[int64]row{}
	confirmedSeats, waitlisted := 0, 0
	for _, r := range rows {
		byID[r.ID] = r
		switch r.Status {
		case "confirmed":
			confirmedSeats += r.Party
		case "waitlisted":
			waitlisted++
			if r.Position != waitlisted {
				t.Fatalf("waitlist has a gap: position %d at rank %d", r.Position, waitlisted)
			}
		}
	}
	for _, ans := range accepted {
		r, ok := byID[ans.ID]
		if !ok {
			t.Fatalf("accepted sign-up %d is not stored", ans.ID)
		}
		pos := 0
		if ans.WaitlistPosition != nil {
			pos = *ans.WaitlistPosition
		}
		if r.Status != ans.Status || r.Position != pos {
			t.Fatalf("sign-up %d answered %s/%d, stored %s/%d", ans.ID, ans.Status, pos, r.Status, r.Position)
		}
	}
	var counter int
	if err := a.DB.Get(&counter, `SELECT seats_confirmed FROM events WHERE slug = 'fest'`); err != nil {
		t.Fatal(err)
	}
	if counter != confirmedSeats || confirmedSeats > capacity {
		t.Fatalf("counter %d, confirmed seats %d, capacity %d", counter, confirmedSeats, capacity)
	}
	if confirmedSeats < capacity-1 {
		t.Fatalf("only %d of %d seats confirmed after %d sign-ups", confirmedSeats, capacity, len(rows))
	}
	t.Logf("%d sent, %d accepted, %d stored (%d seats confirmed, %d waitlisted)", sent.Load(), len(accepted), len(rows), confirmedSeats, waitlisted)
}
