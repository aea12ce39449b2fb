package event

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// ChangedFunc is called inside the transaction that moved an event (time,
// time zone or venue) or cancelled it, with the event locked, so that its
// participants are told in that same transaction. before is the event as it
// was, after as it is now (its Sequence already raised). The registration
// service provides it.
type ChangedFunc func(ctx context.Context, tx *sqlx.Tx, before, after *Event) error

// moved reports a change of when or where, which participants are told of.
func moved(a, b *Event) bool {
	return !a.StartsAt.Equal(b.StartsAt) || !a.EndsAt.Equal(b.EndsAt) || a.AllDay != b.AllDay ||
		a.Timezone != b.Timezone || !sameVenue(a.Venue, b.Venue)
}
