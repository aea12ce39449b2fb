package testdb

import (
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Holding returns the columns ("table.column") of the public schema in
// which some row contains needle: as text in text, varchar, jsonb and array
// columns, as bytes in bytea columns. It reads every row of every table, as
// a copy of the database would: for tests of what a stolen database yields.
func Holding(t testing.TB, db *sqlx.DB, needle string) []string {
	t.Helper()
	var cols []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
		Type   string `db:"data_type"`
	}
	if err := db.Select(&cols, `
SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
  AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')
ORDER BY 1, 2`); err != nil {
		t.Fatalf("testdb: list columns: %v", err)
	}
	var out []string
	for _, c := range cols {
		col, tab := pq.QuoteIdentifier(c.Column), pq.QuoteIdentifier(c.Table)
		cond := `strpos(` + col + `::text, $1) > 0`
		if c.Type == "bytea" {
			cond = `position(convert_to($1, 'UTF8') in ` + col + `) > 0`
		}
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM `+tab+` WHERE `+cond, needle); err != nil {
			t.Fatalf("testdb: scan %s.%s: %v", c.Table, c.Column, err)
		}
		if n > 0 {
			out = append(out, c.Table+"."+c.Column)
		}
	}
	return out
}
