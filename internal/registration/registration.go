// Package registration holds sign-ups and their tickets: the capacity rule,
// the waitlist, self-service cancellation, and their SQL.
package registration

import (
	"crypto/rand"
	"time"
)

// Status values of a registration.
const (
	Pending    = "pending"
	Confirmed  = "confirmed"
	Waitlisted = "waitlisted"
	Cancelled  = "cancelled"
	Expired    = "expired"
	// Applied is an application on an event with selection by approval
	// (approval.go): it holds no seat until an organiser approves it;
	// Declined is one the organisers turned down.
	Applied  = "applied"
	Declined = "declined"
)

// Registration is one sign-up of a party for an event.
type Registration struct {
	ID        int64  `db:"id"`
	EventID   int64  `db:"event_id"`
	EventSlug string `db:"event_slug"`
	Name      string `db:"name"`
	Email     string `db:"email"`
	Lang      string `db:"lang"`
	PartySize int    `db:"party_size"`
	Status    string `db:"status"`
	// ManageToken is derived from ManageNonce (tokens.go); the table
	// keeps only its hash.
	ManageToken string     `db:"-"`
	ManageNonce []byte     `db:"manage_nonce"`
	CreatedAt   time.Time  `db:"created_at"`
	ConfirmedAt *time.Time `db:"confirmed_at"`
	CancelledAt *time.Time `db:"cancelled_at"`
	// WaitlistPosition is the 1-based rank among the event's waitlisted
	// registrations; 0 when not waitlisted.
	WaitlistPosition int `db:"waitlist_position"`
	// SeatsHeld is what a pending registration holds of the event's seats
	// (its party size, or 0 when it will join the waitlist once confirmed);
	// HoldExpiresAt is when an unconfirmed one expires.
	SeatsHeld     int        `db:"seats_held"`
	HoldExpiresAt *time.Time `db:"hold_expires_at"`
	// ConfirmToken is the secret of the confirmation link, known only in
	// the transaction that creates it (the table keeps its SHA-256).
	ConfirmToken string `db:"-"`
	// Answers answer the event's questions (questions.go); retention
	// empties them.
	Answers Answers `db:"answers"`
	// AddressUnconfirmed marks a registration whose confirmation link was
	// never followed: its address may be a member's listed one, put there
	// by whoever typed the member's number, so organisers do not see it
	// (ListForEvent).
	AddressUnconfirmed bool `db:"address_unconfirmed"`
	// WalkIn marks a registration made at the door (walkin.go).
	WalkIn bool `db:"walk_in"`
	// ChangedAt is when the participant last changed the registration
	// (change.go); nil when never.
	ChangedAt *time.Time `db:"changed_at"`

	Tickets []Ticket `db:"-"`
	// Sessions are the sessions it chose and holds or waits for
	// (sessions.go), in the event's order; given-up choices are left out.
	Sessions []SessionChoice `db:"-"`
	// PromotedSessions are, in a session mail, the keys of the sessions
	// the mail is about.
	PromotedSessions []string `db:"-"`
}

// Ticket is one seat of a confirmed registration.
type Ticket struct {
	ID             int64 `db:"id"`
	RegistrationID int64 `db:"registration_id"`
	Seat           int   `db:"seat"`
	// Code is derived from the registration's nonce and the seat
	// (tokens.go); the table keeps only its hash.
	Code        string     `db:"-"`
	CheckedInAt *time.Time `db:"checked_in_at"`
}

// newSecret returns 130 random bits from crypto/rand as 26 base32 characters:
// the format of confirmation links' secrets.
func newSecret() string { return rand.Text() }
