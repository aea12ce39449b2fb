package api

import (
	"time"

	"treffpunkt/internal/registration"
)

// mailJSON is one email to a registration as the organiser sees it.
type mailJSON struct {
	Kind   string     `json:"kind"`
	Status string     `json:"status"` // queued, sent or failed
	SentAt *time.Time `json:"sent_at"`
	// Error is why the last attempt failed: the reason a mail failed, or
	// why a queued one waits for its next attempt.
	Error string `json:"error,omitempty"`
}

// mailOf lists a registration's emails and sums them up: "failed" when
// one failed, else "queued" when one waits, else "sent"; "none" without
// emails.
func mailOf(states []registration.MailState) ([]mailJSON, string) {
	out := make([]mailJSON, len(states))
	summary := "none"
	rank := map[string]int{"none": 0, "sent": 1, "queued": 2, "failed": 3}
	for i, s := range states {
		out[i] = mailJSON{Kind: s.Kind, Status: s.Status, SentAt: utcPtr(s.SentAt), Error: s.Error}
		if rank[s.Status] > rank[summary] {
			summary = s.Status
		}
	}
	return out, summary
}
