// Package calendar writes iCalendar objects (RFC 5545): the public feeds of
// the network, of one organisation and of one event, the personal feed of
// one participant's registrations, and the one-event object that emails
// attach. It also keeps the personal feeds' links. docs/calendar.md explains
// the choices.
package calendar
