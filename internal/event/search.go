package event

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"treffpunkt/internal/apperr"
)

// Search limits: a query is for finding an event, not a document.
const (
	MaxQueryBytes = 200
	MaxQueryWords = 6
)

// SearchWords splits a search query into the words that must all be found.
// The folding (case, diacritics, Arabic marks) happens in PostgreSQL
// (search_fold in migrations/00030_search.sql), so that the query and the
// index agree byte for byte; here the query is only checked for what
// PostgreSQL would refuse as text (invalid UTF-8, NUL) or what would make
// the search slow (too long, too many words).
func SearchWords(q string) ([]string, error) {
	if len(q) > MaxQueryBytes || !utf8.ValidString(q) || strings.ContainsRune(q, 0) {
		return nil, apperr.Field("q", "err.search")
	}
	words := strings.Fields(q)
	if len(words) > MaxQueryWords {
		return nil, apperr.Field("q", "err.search")
	}
	return words, nil
}

// likeEscaper makes a word a literal LIKE pattern: a user's "50%" looks for
// "50%", not "50" followed by anything.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// searchWhere is one condition per word, each word found in the event's
// titles or descriptions (the generated column search_text) or, when
// orgs[i] is not empty, the event belongs to one of those organisations
// (the ones whose names contain word i, orgMatches). Substring match with
// LIKE rather than similarity (%) or word_similarity: those need a
// threshold, which misses a short word in a long title ("jazz" in a
// title of eight words scores far below the default 0.3) and finds near
// misses nobody typed; LIKE '%word%' finds exactly the texts that contain
// the word, also a word of one or two letters, and the trigram index
// (events_search_trgm) still answers it for three letters and more.
// args are appended from parameter number next on.
func searchWhere(words []string, orgs [][]int64, next int) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 2*len(words))
	for i, w := range words {
		p := "$" + strconv.Itoa(next)
		next++
		args = append(args, likeEscaper.Replace(w))
		b.WriteString("\n  AND (e.search_text LIKE '%' || search_fold(" + p + ") || '%'")
		if i < len(orgs) && len(orgs[i]) > 0 {
			b.WriteString(" OR e.org_id = ANY($" + strconv.Itoa(next) + ")")
			next++
			args = append(args, pq.Array(orgs[i]))
		}
		b.WriteString(")")
	}
	return b.String(), args
}

// orgMatches is, for each word, the organisations whose names contain it.
// A query of its own before the list, rather than a sub-select in it: the
// planner cannot know how many events a sub-select's organisations have,
// guesses a third of the table and scans it all; given the ids (usually
// none) it plans the trigram index, with the org index beside it when
// there are some (docs/performance.md "Search").
func orgMatches(ctx context.Context, q sqlx.QueryerContext, words []string) ([][]int64, error) {
	if len(words) == 0 {
		return nil, nil
	}
	var rows []pq.Int64Array
	err := sqlx.SelectContext(ctx, q, &rows, `
SELECT ARRAY(SELECT id FROM organisations WHERE search_fold(name) LIKE '%' || search_fold(w) || '%')
FROM unnest($1::text[]) WITH ORDINALITY AS t(w, n) ORDER BY n`, pq.Array(escapeAll(words)))
	if err != nil {
		return nil, fmt.Errorf("search organisations: %w", err)
	}
	out := make([][]int64, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out, nil
}

func escapeAll(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = likeEscaper.Replace(w)
	}
	return out
}

// Presets are the names a search may give instead of dates (?when=).
var Presets = []string{"today", "weekend", "month"}

// PresetRange is the time a preset names, as of now, in the network's home
// zone (DefaultTimezone, where a bare date in a query is read too): "today"
// is now until midnight, "weekend" is the coming Saturday and Sunday (the
// rest of it when now is one of them), "month" is now until the first of
// the next month. From is now rather than the start of the period, so an
// event already over is not shown, but one under way is (the list keeps
// events whose end is after From).
func PresetRange(when string, now time.Time) (from, to time.Time, ok bool) {
	loc := Zone(DefaultTimezone)
	local := now.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	switch when {
	case "today":
		return now, midnight.AddDate(0, 0, 1), true
	case "weekend":
		// Days until Saturday: 6 on Sunday would skip the weekend under way.
		wd := local.Weekday()
		if wd == time.Sunday {
			return now, midnight.AddDate(0, 0, 1), true
		}
		sat := midnight.AddDate(0, 0, int(time.Saturday-wd))
		start := sat
		if now.After(start) {
			start = now
		}
		return start, sat.AddDate(0, 0, 2), true
	case "month":
		return now, time.Date(local.Year(), local.Month()+1, 1, 0, 0, 0, 0, loc), true
	}
	return time.Time{}, time.Time{}, false
}
