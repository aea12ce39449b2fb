package registration

import (
	"context"
	"slices"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"treffpunkt/internal/apperr"
)

// Door list sort orders (?sort=).
const (
	ByName = "name"
	ByCode = "code"
)

// DoorList is the confirmed registrations of the event, with their tickets'
// codes, for the printed door list and the badges: sorted by name, or by
// the code of their first ticket (by == ByCode), which is how a volunteer
// finds a code read out from a phone whose screen broke. Each carries its
// live session choices (loaded with the tickets), for the sessions column
// and one session's list.
func (s *Service) DoorList(ctx context.Context, eventID int64, by string) ([]*Registration, error) {
	rs, err := listByEvent(ctx, s.db, eventID)
	if err != nil {
		return nil, apperr.Wrap(err, "door list")
	}
	out := rs[:0]
	for _, r := range rs {
		if r.Status == Confirmed {
			out = append(out, r)
		}
	}
	if err := s.reveal(ctx, out...); err != nil {
		return nil, apperr.Wrap(err, "door list")
	}
	if by == ByCode {
		slices.SortStableFunc(out, func(a, b *Registration) int { return strings.Compare(firstCode(a), firstCode(b)) })
		return out, nil
	}
	SortByName(out, func(r *Registration) string { return r.Name })
	return out, nil
}

// HoldingPlaceIn keeps of rs those that hold a place in the session key:
// one session's door list.
func HoldingPlaceIn(rs []*Registration, key string) []*Registration {
	return slices.DeleteFunc(rs, func(r *Registration) bool {
		c := r.Choice(key)
		return c == nil || c.Status != SessionConfirmed
	})
}

func firstCode(r *Registration) string {
	if len(r.Tickets) == 0 {
		return ""
	}
	return r.Tickets[0].Code
}

// SortByName sorts xs by name with the Unicode collation (not byte order):
// "Ölçer" next to "Olga", Cyrillic and Arabic names each in their
// alphabet's order, case ignored.
func SortByName[T any](xs []T, name func(T) string) {
	c := collate.New(language.Und, collate.IgnoreCase, collate.Loose)
	var buf collate.Buffer
	keys := make(map[int]string, len(xs))
	idx := make([]int, len(xs))
	for i, x := range xs {
		idx[i] = i
		keys[i] = string(c.KeyFromString(&buf, name(x)))
		buf.Reset()
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	sorted := make([]T, len(xs))
	for i, j := range idx {
		sorted[i] = xs[j]
	}
	copy(xs, sorted)
}
