package registration

import (
	"treffpunkt/internal/event"
)

// The capacity rule, in one place:
//
//   - A party is confirmed whole or waitlisted whole, never split.
//   - It is confirmed when all its seats fit under the capacity at the moment
//     its transaction holds the event row's lock (event.LockBySlug); the
//     counter events.seats_confirmed is raised in that same transaction and
//     a CHECK constraint (events_capacity_not_exceeded) refuses any value
//     above the capacity, so even a faulty caller cannot oversell.
//   - Otherwise it joins the waitlist (when the event has one) or is refused
//     as full.
//
// Waitlist policy when seats free up: parties are considered in sign-up
// order and every party that fits is confirmed ("first fit"). A party too
// large for the seats now free keeps its place at the head while smaller
// parties behind it move up; it is confirmed as soon as enough seats are
// free. Because the waitlist is always settled this way, no waitlisted party
// ever fits the free seats at rest, so a new sign-up that fits may be
// confirmed without jumping anyone who could have had those seats.

// fits reports whether a party of n seats can be confirmed on e now.
func fits(e *event.Event, n int) bool {
	return e.Capacity == nil || e.SeatsConfirmed+n <= *e.Capacity
}

// seatStatus returns the status a new party of n seats gets on the locked event e,
// or "" when the event is full and has no waitlist.
func seatStatus(e *event.Event, n int) string {
	switch {
	case fits(e, n):
		return Confirmed
	case e.Waitlist:
		return Waitlisted
	default:
		return ""
	}
}
