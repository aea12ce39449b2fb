package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"treffpunkt/internal/testapp"
)

// thousandEvents fills a fresh app with 1,000 published events of one
// organisation, written in one statement (the event service would take a
// transaction each), with German and Arabic titles and a description.
func thousandEvents(b *testing.B) *testapp.App {
	b.Helper()
	a := testapp.New(b)
	o := a.Org(b, "miso")
	_, err := a.DB.Exec(`
INSERT INTO venues (org_id, name, street, postcode, city) VALUES ($1, 'Kulturzentrum Faust', 'Zur Bettfedernfabrik 3', '30451', 'Hannover');
`, o.ID)
	if err != nil {
		b.Fatal(err)
	}
	_, err = a.DB.Exec(`
INSERT INTO events (org_id, slug, kind, default_lang, title, description, starts_at, ends_at, all_day, venue_id, status)
SELECT $1, 'veranstaltung-' || i, (ARRAY['conference','seminar','festival','workshop','meeting','other'])[1 + i % 6], 'de',
       jsonb_build_object('de', 'Veranstaltung ' || i || ': Gespräch über Teilhabe, Arbeit und Wohnen', 'ar', 'فعالية ' || i),
       jsonb_build_object('de', E'Wir laden herzlich ein.\n\nEs gibt Getränke, Essen und Musik; der Eintritt ist frei.'),
       now() + i * interval '7 hours', now() + i * interval '7 hours' + interval '3 hours', i % 10 = 0,
       (SELECT id FROM venues WHERE org_id = $1), 'published'
FROM generate_series(1, 1000) AS i`, o.ID)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkFeed1000 is a full GET of the network feed with 1,000 events:
// the snapshot's two queries and the rendering (~700 kB).
func BenchmarkFeed1000(b *testing.B) {
	a := thousandEvents(b)
	h := a.Server.Config.Handler
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/calendar.ics", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkFeed304 answers conditional requests for the network feed of
// 1,000 events through the real router from parallel clients: each is one
// stamp query and no rendering. The req/s metric is the throughput.
func BenchmarkFeed304(b *testing.B) {
	a := thousandEvents(b)
	h := a.Server.Config.Handler
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/calendar.ics", nil))
	etag := rec.Header().Get("ETag")
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/calendar.ics", nil)
			req.Header.Set("If-None-Match", etag)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusNotModified {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
