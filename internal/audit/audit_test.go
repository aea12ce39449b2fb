package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/database"
	"treffpunkt/internal/testdb"
)

func count(t *testing.T, db *sqlx.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// The entry commits with the action's transaction or not at all, once.
func TestEntryJoinsTheActionsTransaction(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	l := audit.New(db)
	ctx := context.Background()
	var orgID int64
	if err := db.Get(&orgID, `INSERT INTO organisations (slug, name) VALUES ('a', 'A') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	e := audit.Entry{OrgID: orgID, Action: audit.EventUpdate, Target: "fest"}

	// The action fails: neither its change nor the entry is kept.
	actx, p := l.Begin(ctx, e)
	err := database.WithTx(actx, db, func(tx *sqlx.Tx) error {
		if _, err := tx.Exec(`UPDATE organisations SET name = 'changed' WHERE id = $1`, orgID); err != nil {
			return err
		}
		return errors.New("rule refused")
	})
	if err == nil || count(t, db, `SELECT count(*) FROM audit_log`) != 0 || count(t, db, `SELECT count(*) FROM organisations WHERE name = 'changed'`) != 0 {
		t.Fatalf("failed action: err %v; the entry or the change was kept", err)
	}

	// The action succeeds in two transactions: one entry, written in the
	// first, and Done adds none.
	actx, p = l.Begin(ctx, e)
	for range 2 {
		if err := database.WithTx(actx, db, func(tx *sqlx.Tx) error {
			_, err := tx.Exec(`UPDATE organisations SET name = 'changed' WHERE id = $1`, orgID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Done(actx, map[string]any{"late": true}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'events.update' AND target = 'fest' AND actor = 'system'`); n != 1 {
		t.Fatalf("%d entries, want 1", n)
	}

	// An action without a transaction (an export): Done writes the entry.
	_, p = l.Begin(ctx, audit.Entry{OrgID: orgID, Action: audit.RegistrationsExport, Target: "fest"})
	if err := p.Done(ctx, map[string]any{"rows": 3}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'registrations.export' AND details->>'rows' = '3'`); n != 1 {
		t.Fatalf("export entries %d, want 1", n)
	}
	// A nil log records nothing and does not fail.
	var none *audit.Log
	nctx, np := none.Begin(ctx, e)
	if err := np.Done(nctx, nil); err != nil || none.Do(ctx, e, noAction) != nil {
		t.Fatal("nil log failed")
	}
}

// noAction is an audited action without a transaction of its own: Do
// writes the entry after it.
func noAction(context.Context) error { return nil }

// Pages are newest first, PageSize long, and end.
func TestListPages(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	l := audit.New(db)
	ctx := context.Background()
	var a, b int64
	_ = db.Get(&a, `INSERT INTO organisations (slug, name) VALUES ('a', 'A') RETURNING id`)
	_ = db.Get(&b, `INSERT INTO organisations (slug, name) VALUES ('b', 'B') RETURNING id`)
	for i := range audit.PageSize*2 + 7 {
		if err := l.Do(ctx, audit.Entry{OrgID: a, Action: audit.EventUpdate, Target: "e", Details: map[string]any{"i": i}}, noAction); err != nil {
			t.Fatal(err)
		}
	}
	_ = l.Do(ctx, audit.Entry{OrgID: b, Action: audit.EventUpdate, Target: "other"}, noAction)
	var seen []int64
	before := int64(0)
	for page := 0; ; page++ {
		rows, next, err := l.List(ctx, a, before)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Target != "e" {
				t.Fatalf("another organisation's entry %q", r.Target)
			}
			seen = append(seen, r.ID)
		}
		if next == 0 {
			if page != 2 || len(rows) != 7 {
				t.Fatalf("last page %d has %d rows, want page 2 with 7", page, len(rows))
			}
			break
		}
		before = next
	}
	if len(seen) != audit.PageSize*2+7 {
		t.Fatalf("%d entries seen", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatal("not newest first")
		}
	}
}
