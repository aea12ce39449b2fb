package event

import (
	"context"
	"strings"
	"testing"
	"time"

	"treffpunkt/internal/testdb"
)

// seedSearch fills a fresh database with 10,000 published events of 20
// organisations in one INSERT … SELECT: titles and descriptions in four
// languages from a small vocabulary, one event in a hundred a Turkish
// "Müzik" evening and one in a hundred a Kurdish "Newroz" one, spread over
// the coming year.
func seedSearch(b *testing.B) *Service {
	db := testdb.New(b)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO organisations (slug, name, email)
		 SELECT 'org-' || i, 'Verein Nummer ' || i, 'org' || i || '@example.org' FROM generate_series(1, 20) i`,
		`INSERT INTO events (org_id, slug, kind, default_lang, title, description, starts_at, ends_at, status)
		 SELECT (SELECT id FROM organisations WHERE slug = 'org-' || (1 + i % 20)), 'e-' || i, 'workshop', 'de',
		        jsonb_build_object(
		          'de', (ARRAY['Sommerfest','Lesung','Kochkurs','Nähcafé','Sprachtreff','Fahrradwerkstatt'])[1 + i % 6] || ' ' || i,
		          'tr', CASE WHEN i % 100 = 7 THEN 'Türk Müzik Akşamı' ELSE 'Buluşma ' || i END,
		          'ku', CASE WHEN i % 100 = 42 THEN 'Şahiya Newrozê' ELSE 'Civîn ' || i END,
		          'ar', 'أمسية ' || i),
		        jsonb_build_object('de', repeat('Wir treffen uns und reden über alles Mögliche. ', 4) || i),
		        now() + i * interval '50 minutes', now() + i * interval '50 minutes' + interval '2 hours', 'published'
		 FROM generate_series(1, 10000) i`,
		`ANALYZE organisations`, `ANALYZE events`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	return New(Options{DB: db})
}

// BenchmarkSearch10k is the public list with ?q= over 10,000 events, the
// whole query as the API runs it (docs/performance.md "Search"). With -v
// it logs the plan with EXPLAIN (ANALYZE, BUFFERS).
//
//	go test -run '^$' -bench Search10k -benchtime 200x -v ./internal/event/
func BenchmarkSearch10k(b *testing.B) {
	s := seedSearch(b)
	ctx := context.Background()
	f := Filter{From: time.Now(), Words: []string{"muzik"}}
	evs, err := s.List(ctx, f)
	if err != nil || len(evs) != 100 {
		b.Fatalf("%d events, %v", len(evs), err)
	}
	orgs, err := orgMatches(ctx, s.db, f.Words)
	if err != nil {
		b.Fatal(err)
	}
	query, args := listQuery(f, orgs)
	plan := []string{}
	rows, err := s.db.QueryContext(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+query, args...)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			b.Fatal(err)
		}
		plan = append(plan, line)
	}
	rows.Close()
	if !strings.Contains(strings.Join(plan, "\n"), "events_search_trgm") {
		b.Errorf("the search does not use its index:\n%s", strings.Join(plan, "\n"))
	}
	b.Log("\n" + strings.Join(plan, "\n"))
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.List(ctx, f); err != nil {
			b.Fatal(err)
		}
	}
}
