package checkin

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// CheckInAll checks in every ticket of the registration regID of event
// eventID on day, at at, by a staff account or token (0 for none), in tx:
// the transaction that made the registration at the door (a walk-in,
// internal/registration/walkin.go), so that a walk-in is never confirmed
// without being checked in, nor the other way round. The check-ins are
// ordinary ones: the door's counts, search and undo treat them alike.
func CheckInAll(ctx context.Context, tx *sqlx.Tx, eventID, regID int64, day string, at time.Time, userID, tokenID int64) error {
	_, err := tx.ExecContext(ctx, `
WITH ins AS (
    INSERT INTO checkins (ticket_id, event_id, day, checked_in_at, by_user_id, by_token_id)
    SELECT t.id, $1, $3::date, $4, $5, $6 FROM tickets t WHERE t.registration_id = $2 AND t.event_id = $1
    RETURNING ticket_id
)
UPDATE tickets t SET checked_in_at = $4 FROM ins WHERE t.id = ins.ticket_id`,
		eventID, regID, day, at, nullID(userID), nullID(tokenID))
	if err != nil {
		return fmt.Errorf("check in walk-in: %w", err)
	}
	return nil
}
