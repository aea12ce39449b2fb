package checkin

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/secret"
	"treffpunkt/internal/testdb"
	"treffpunkt/internal/testutil"
)

// batchFixture is an organisation with an event happening now, n confirmed
// tickets (codes[i]) and one ticket of a cancelled registration.
type batchFixture struct {
	db        *sqlx.DB
	svc       *Service
	ev        *Event
	codes     []string
	cancelled string
}

func newBatchFixture(t *testing.T, n int) *batchFixture {
	t.Helper()
	db := testdb.New(t)
	f := &batchFixture{db: db, svc: New(Options{DB: db})}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO organisations (slug, name) VALUES ('door', 'Door e. V.')`)
	exec(`INSERT INTO events (org_id, slug, kind, default_lang, title, starts_at, ends_at, status)
SELECT id, 'batch', 'conference', 'de', '{"de":"Batch"}', now() - interval '1 hour', now() + interval '3 hours', 'published'
FROM organisations WHERE slug = 'door'`)
	exec(`INSERT INTO registrations (event_id, name, email, lang, party_size, status, manage_nonce, manage_hash, consent_at, confirmed_at)
SELECT e.id, 'Gast ' || g, 'gast' || g || '@example.org', 'de', 1, CASE WHEN g > $1 THEN 'cancelled' ELSE 'confirmed' END,
       decode(md5(g::text), 'hex'), sha256(decode(md5('x' || g), 'hex')), now(), now()
FROM events e, generate_series(1, $1 + 1) g WHERE e.slug = 'batch'`, n)
	// The codes are derived as the sign-up derives them (internal/secret);
	// the table keeps their hashes.
	key, err := f.svc.ticketKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var regs []struct {
		ID     int64  `db:"id"`
		Nonce  []byte `db:"manage_nonce"`
		Status string `db:"status"`
	}
	if err := db.Select(&regs, `SELECT id, manage_nonce, status FROM registrations ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	ids, hashes := make([]int64, len(regs)), make([][]byte, len(regs))
	for i, r := range regs {
		code := secret.TicketCode(key, r.Nonce, 1)
		ids[i], hashes[i] = r.ID, secret.Hash(code)
		if r.Status == "cancelled" {
			f.cancelled = code
		} else {
			f.codes = append(f.codes, code)
		}
	}
	exec(`INSERT INTO tickets (registration_id, event_id, seat, code_hash)
SELECT r.id, r.event_id, 1, u.hash FROM registrations r JOIN unnest($1::bigint[], $2::bytea[]) AS u(id, hash) ON u.id = r.id`,
		pq.Array(ids), pq.Array(hashes))
	if f.ev, err = f.svc.Lookup(context.Background(), "batch"); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *batchFixture) count(t *testing.T, q string) int {
	t.Helper()
	var n int
	if err := f.db.Get(&n, q); err != nil {
		t.Fatal(err)
	}
	return n
}

// Scans of distinct and repeated tickets decided together, in batches
// that certainly hold repeats (the collector is held back until every scan
// waits): per ticket exactly one ok, every repeat already_checked_in with
// the time of the ok, a repeated scan id has one effect, the red verdicts
// stay red, every scan logged once — and far fewer transactions than scans.
func TestBatchedScansGiveEveryVerdictOnce(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, 41)
	p := &auth.Principal{OrgID: f.ev.OrgID, Role: auth.Door}
	offline := f.codes[40]
	type scan struct {
		in   ScanInput
		want string
	}
	var scans []scan
	for i, code := range f.codes[:40] {
		times := 1
		if i < 20 {
			times = 4 // repeated tickets
		}
		for range times {
			scans = append(scans, scan{ScanInput{Code: "https://x.example/t/" + code}, ""})
		}
	}
	for i := range 8 {
		scans = append(scans, scan{ScanInput{Code: fmt.Sprintf("NOSUCHCODE%022d", i)}, Unknown})
	}
	for range 3 {
		scans = append(scans, scan{ScanInput{Code: f.cancelled}, Cancelled})
		scans = append(scans, scan{ScanInput{Code: f.codes[0], Day: "2001-01-01"}, NotToday})
	}
	// One offline scan synced from several tabs at once.
	for range 5 {
		scans = append(scans, scan{ScanInput{Code: offline, ScanID: "offline-1"}, ""})
	}

	// Hold the workers back until all scans wait, then let one run.
	eng := f.svc.engine()
	eng.Pause()
	results := make([]*Result, len(scans))
	errs := make([]error, len(scans))
	var wg sync.WaitGroup
	for i, s := range scans {
		wg.Go(func() { results[i], errs[i] = f.svc.Scan(context.Background(), p, f.ev, s.in) })
	}
	testutil.Eventually(t, 10*time.Second, func() bool {
		return eng.Queued(struct{}{}) == len(scans)
	}, "all scans queued")
	eng.Resume()
	wg.Wait()

	oks := map[string]int{}
	okAt := map[string]time.Time{}
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("scan %d %+v: %v", i, scans[i].in, errs[i])
		}
		if w := scans[i].want; w != "" && r.Result != w {
			t.Errorf("scan %d %+v: %s, want %s", i, scans[i].in, r.Result, w)
		}
		if r.Result == OK && !r.Replayed {
			oks[r.Code]++
			okAt[r.Code] = *r.CheckedInAt
		}
	}
	for _, code := range f.codes {
		if oks[code] != 1 {
			t.Errorf("ticket %s: %d ok, want 1", code, oks[code])
		}
	}
	for i, r := range results {
		switch {
		case r.Result == AlreadyCheckedIn:
			if r.CheckedInAt == nil || !r.CheckedInAt.Equal(okAt[r.Code]) || r.Time == "" {
				t.Errorf("scan %d: already checked in at %v, want the ok's %v", i, r.CheckedInAt, okAt[r.Code])
			}
		case scans[i].in.ScanID != "" && r.Result == OK && r.Replayed:
			oks["replayed"]++
		case scans[i].in.ScanID != "" && r.Result != OK:
			t.Errorf("repeat of scan id: %s, want ok", r.Result)
		}
	}
	if oks["replayed"] != 4 {
		t.Errorf("%d replays of the offline scan, want 4", oks["replayed"])
	}
	if got := f.count(t, `SELECT count(*) FROM checkins`); got != len(f.codes) {
		t.Errorf("%d check-ins, want %d", got, len(f.codes))
	}
	if got := f.count(t, `SELECT count(*) FROM tickets WHERE checked_in_at IS NOT NULL`); got != len(f.codes) {
		t.Errorf("tickets.checked_in_at on %d tickets, want %d", got, len(f.codes))
	}
	if got, want := f.count(t, `SELECT count(*) FROM checkin_scans`), len(scans)-4; got != want {
		t.Errorf("%d scans logged, want %d (the four replays not again)", got, want)
	}
	// Three batches: 100 scans, the rest, the replays of the scan id.
	if got := f.count(t, `SELECT count(DISTINCT xmin::text) FROM checkin_scans`); got > 3 {
		t.Errorf("scans logged by %d transactions, want at most 3", got)
	}
}

// Without holding anything back: many scanners at once over one service,
// each scanning tickets that others scan too.
func TestConcurrentScannersAdmitEachTicketOnce(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, 60)
	p := &auth.Principal{OrgID: f.ev.OrgID, Role: auth.Door}
	const scanners = 24
	got := make([][]*Result, scanners)
	var wg sync.WaitGroup
	for s := range scanners {
		wg.Go(func() {
			for i := range f.codes {
				// Every scanner walks all tickets, starting elsewhere.
				code := f.codes[(i+s*7)%len(f.codes)]
				r, err := f.svc.Scan(context.Background(), p, f.ev, ScanInput{Code: code})
				if err != nil {
					t.Error(err)
					return
				}
				got[s] = append(got[s], r)
			}
		})
	}
	wg.Wait()
	oks := map[string]int{}
	for _, rs := range got {
		for _, r := range rs {
			switch r.Result {
			case OK:
				oks[r.Code]++
			case AlreadyCheckedIn:
			default:
				t.Errorf("%s: %s", r.Code, r.Result)
			}
		}
	}
	for _, code := range f.codes {
		if oks[code] != 1 {
			t.Errorf("ticket %s: %d ok, want 1", code, oks[code])
		}
	}
	if n, want := f.count(t, `SELECT count(*) FROM checkin_scans`), scanners*len(f.codes); n != want {
		t.Errorf("%d scans logged, want %d", n, want)
	}
	if n := f.count(t, `SELECT count(DISTINCT xmin::text) FROM checkin_scans`); n >= scanners*len(f.codes) {
		t.Errorf("%d transactions for %d scans: no batching", n, scanners*len(f.codes))
	}
}

// A batch whose transaction fails is decided again scan by scan: the bad
// scan (here: of an event deleted meanwhile) fails alone.
func TestFailedBatchRetriesEachScanAlone(t *testing.T) {
	t.Parallel()
	f := newBatchFixture(t, 3)
	if err := f.svc.prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	day := f.ev.Today(time.Now())
	item := func(code string, eventID int64) scanItem {
		return scanItem{code: code, eventID: eventID, day: day, at: time.Now(), dayOK: true, raw: code}
	}
	batch := []scanItem{item(f.codes[0], f.ev.ID), item(f.codes[1], f.ev.ID+1000), item(f.codes[2], f.ev.ID), item(f.codes[0], f.ev.ID)}
	// Queue the four in order while no worker runs, so that they make one
	// batch.
	eng := f.svc.engine()
	eng.Pause()
	rows := make([]scanRow, len(batch))
	errs := make([]error, len(batch))
	var wg sync.WaitGroup
	for i, it := range batch {
		wg.Go(func() { rows[i], errs[i] = f.svc.submit(context.Background(), it) })
		testutil.Eventually(t, 10*time.Second, func() bool { return eng.Queued(struct{}{}) == i+1 }, "scan queued")
	}
	eng.Resume()
	wg.Wait()
	want := []string{OK, "", OK, AlreadyCheckedIn}
	for i := range batch {
		if want[i] == "" {
			if errs[i] == nil {
				t.Errorf("scan %d of a missing event: %s, want an error", i, rows[i].Verdict)
			}
			continue
		}
		if errs[i] != nil || rows[i].Verdict != want[i] {
			t.Errorf("scan %d: %q %v, want %s", i, rows[i].Verdict, errs[i], want[i])
		}
	}
	if st := eng.Stats(); st.Batches != 3 || st.Items != 3 {
		t.Errorf("engine stats %+v: want the batch failed and three scans decided alone", st)
	}
	if got := f.count(t, `SELECT count(*) FROM checkins`); got != 2 {
		t.Errorf("%d check-ins, want 2", got)
	}
	if got := f.count(t, `SELECT count(*) FROM checkin_scans`); got != 3 {
		t.Errorf("%d scans logged, want 3", got)
	}
}
