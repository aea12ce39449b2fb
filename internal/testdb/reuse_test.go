package testdb

import (
	"testing"
)

// A database is handed to the next test only if the last one changed
// nothing but rows: each change below, left behind by one test, must not be
// seen by the next. The subtests run one after another, so the next one
// gets the database the last one released if it was kept.
func TestReusedDatabaseCarriesNoChangeButRows(t *testing.T) {
	changes := []struct {
		name, change, seen string
	}{
		{"column", `ALTER TABLE events ADD COLUMN left_behind int`,
			`SELECT count(*) FROM information_schema.columns WHERE table_name = 'events' AND column_name = 'left_behind'`},
		{"index", `CREATE INDEX left_behind ON events (slug)`,
			`SELECT count(*) FROM pg_indexes WHERE indexname = 'left_behind'`},
		{"trigger off", `ALTER TABLE registrations DISABLE TRIGGER ALL`,
			`SELECT count(*) FROM pg_trigger WHERE tgrelid = 'registrations'::regclass AND tgenabled = 'D'`},
		{"function", `CREATE FUNCTION left_behind() RETURNS int LANGUAGE sql AS 'SELECT 1'`,
			`SELECT count(*) FROM pg_proc WHERE proname = 'left_behind'`},
		{"dropped index", `DROP INDEX registrations_event_created`,
			`SELECT 1 - count(*) FROM pg_indexes WHERE indexname = 'registrations_event_created'`},
		{"setting", `DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = ''7MB''', current_database()); END$$`,
			`SELECT count(*) FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())`},
	}
	for _, c := range changes {
		var kept string
		t.Run(c.name+": change", func(t *testing.T) {
			db := New(t)
			if _, err := db.Exec(c.change); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`INSERT INTO organisations (slug, name, email) VALUES ('rows', 'Rows', 'rows@example.org')`); err != nil {
				t.Fatal(err)
			}
			if err := db.Get(&kept, `SELECT current_database()`); err != nil {
				t.Fatal(err)
			}
		})
		t.Run(c.name+": next test", func(t *testing.T) {
			db := New(t)
			var name string
			var seen, rows int
			if err := db.Get(&name, `SELECT current_database()`); err != nil {
				t.Fatal(err)
			}
			if err := db.Get(&seen, c.seen); err != nil {
				t.Fatal(err)
			}
			if err := db.Get(&rows, `SELECT count(*) FROM organisations`); err != nil {
				t.Fatal(err)
			}
			if seen != 0 || rows != 0 {
				t.Errorf("the next test sees the change (%d) or rows (%d) of the last (database %s, the last's %s)", seen, rows, name, kept)
			}
		})
	}
	// Rows alone do not cost the database: the next test gets it emptied.
	var first, second string
	t.Run("rows only", func(t *testing.T) {
		db := New(t)
		if _, err := db.Exec(`INSERT INTO organisations (slug, name, email) VALUES ('rows', 'Rows', 'rows@example.org')`); err != nil {
			t.Fatal(err)
		}
		_ = db.Get(&first, `SELECT current_database()`)
	})
	t.Run("rows only: next test", func(t *testing.T) {
		db := New(t)
		_ = db.Get(&second, `SELECT current_database()`)
	})
	if pool.reuse && first != second {
		t.Errorf("a database with rows only was not reused: %s, then %s", first, second)
	}
}
