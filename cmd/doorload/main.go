// Command doorload measures door check-in (docs/performance.md, "Check-in"):
// it reads ticket codes (one a line) from stdin and checks each in once
// through POST /api/v1/checkin, from -c clients spread over -urls and over
// the comma-separated -tokens (one per door device), and prints throughput,
// latency percentiles and the verdicts.
//
// Without -rate the clients scan as fast as they are answered (the most the
// service does). With -rate R the scans are due at R per second, whoever
// is free sends the next one when it is due, and a scan's latency counts
// from when it was due: a service that falls behind is charged for the
// wait, not only for the answer (no "coordinated omission").
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	urls := flag.String("urls", "http://127.0.0.1:18111", "comma-separated base URLs of app instances")
	tokens := flag.String("tokens", "", "comma-separated door tokens")
	ev := flag.String("event", "", "event slug")
	clients := flag.Int("c", 64, "concurrent clients (with -rate: at most this many scans in flight)")
	rate := flag.Float64("rate", 0, "scans per second to offer (0: as fast as answered)")
	flag.Parse()
	var codes []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			codes = append(codes, s)
		}
	}
	bases, toks := strings.Split(*urls, ","), strings.Split(*tokens, ",")
	if len(codes) == 0 || *ev == "" || toks[0] == "" {
		fmt.Fprintln(os.Stderr, "usage: doorload -event SLUG -tokens T1,T2 [-urls U1,U2] [-c N] < codes")
		os.Exit(2)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: *clients}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	var next atomic.Int64
	lat := make([]time.Duration, len(codes))
	verdicts := make([]string, len(codes))
	var wg sync.WaitGroup
	start := time.Now()
	for w := range *clients {
		base, tok := bases[w%len(bases)], toks[w%len(toks)]
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(codes) {
					return
				}
				t0 := time.Now()
				if *rate > 0 {
					t0 = start.Add(time.Duration(float64(i) / *rate * float64(time.Second)))
					time.Sleep(time.Until(t0))
				}
				body, _ := json.Marshal(map[string]string{"code": codes[i], "event": *ev})
				req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/checkin", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := client.Do(req)
				if err != nil {
					verdicts[i] = "error: " + err.Error()
					continue
				}
				var out struct {
					Result string `json:"result"`
				}
				err = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				lat[i] = time.Since(t0)
				switch {
				case err != nil || res.StatusCode != http.StatusOK:
					verdicts[i] = fmt.Sprintf("http %d", res.StatusCode)
				default:
					verdicts[i] = out.Result
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	count := map[string]int{}
	for _, v := range verdicts {
		count[v]++
	}
	offered := "as fast as answered"
	if *rate > 0 {
		offered = fmt.Sprintf("%.0f/s offered", *rate)
	}
	fmt.Printf("%d check-ins in %.2fs: %.0f check-ins/s (%s), %d clients, %d instances, %d tokens\n",
		len(codes), elapsed.Seconds(), float64(len(codes))/elapsed.Seconds(), offered, *clients, len(bases), len(toks))
	fmt.Printf("latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		ms(pct(.5)), ms(pct(.9)), ms(pct(.99)), ms(lat[len(lat)-1]))
	fmt.Printf("verdicts %v\n", count)
	if count["ok"] != len(codes) {
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
