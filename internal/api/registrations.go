package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/metrics"
	"treffpunkt/internal/registration"
)

// signupRequest is the body of POST /events/:slug/registrations.
type signupRequest struct {
	Name      string `json:"name"`
	Email     string `json:"email"`
	PartySize *int   `json:"party_size"`
	Lang      string `json:"lang"`
	// Answers answer the event's questions by key.
	Answers      map[string]any `json:"answers"`
	MemberNumber string         `json:"member_number"`
	BirthDate    string         `json:"birth_date"`
	Consent      bool           `json:"consent"`
	// Sessions are the keys of the sessions chosen.
	Sessions []string `json:"sessions"`
}

func (r *signupRequest) input() registration.SignupInput {
	size := 1
	if r.PartySize != nil {
		size = *r.PartySize
	}
	return registration.SignupInput{
		Name: r.Name, Email: r.Email, PartySize: size, Lang: r.Lang,
		MemberNumber: r.MemberNumber, BirthDate: r.BirthDate, Consent: r.Consent,
		Answers: r.Answers, Sessions: r.Sessions,
	}
}

type ticketJSON struct {
	Code string `json:"code"`
	URL  string `json:"url"`
}

// registrationJSON is a registration as its holder sees it.
type registrationJSON struct {
	ID               int64          `json:"id"`
	Status           string         `json:"status"`
	WaitlistPosition *int           `json:"waitlist_position"`
	ManageURL        string         `json:"manage_url,omitempty"`
	Event            string         `json:"event"`
	Name             string         `json:"name"`
	Lang             string         `json:"lang"`
	PartySize        int            `json:"party_size"`
	Answers          map[string]any `json:"answers"`
	Tickets          []ticketJSON   `json:"tickets"`
	Sessions         []choiceJSON   `json:"sessions"`
}

func (h *handler) toRegistrationJSON(r *registration.Registration) registrationJSON {
	j := registrationJSON{
		ID:               r.ID,
		Status:           r.Status,
		WaitlistPosition: waitlistPosition(r),
		Event:            r.EventSlug,
		Name:             r.Name,
		Lang:             r.Lang,
		PartySize:        r.PartySize,
		Answers:          answersOf(r),
		Tickets:          []ticketJSON{},
		Sessions:         choicesJSON(r),
	}
	// A pending registration's manage link goes only to the confirmed
	// address, in the mail after confirming: whoever typed a member's
	// number must not get the tickets the member confirms.
	if r.Status != registration.Pending {
		j.ManageURL = h.Config.BaseURL + "/r/" + r.ManageToken
	}
	// A cancelled or expired registration keeps its ticket rows, but they
	// no longer admit anyone: only a confirmed one shows tickets.
	if r.Status == registration.Confirmed {
		for _, t := range r.Tickets {
			j.Tickets = append(j.Tickets, ticketJSON{Code: t.Code, URL: h.Config.BaseURL + "/t/" + t.Code})
		}
	}
	return j
}

// answersOf is the registration's answers, {} when it has none.
func answersOf(r *registration.Registration) map[string]any {
	if r.Answers == nil {
		return map[string]any{}
	}
	return r.Answers
}

func waitlistPosition(r *registration.Registration) *int {
	if r.Status != registration.Waitlisted {
		return nil
	}
	p := r.WaitlistPosition
	return &p
}

// signUp is POST /events/:slug/registrations.
func (h *handler) signUp(c *gin.Context) {
	ctx := c.Request.Context()
	slug := c.Param("slug")
	var req signupRequest
	if err := decodeJSON(c, &req); err != nil {
		// As in the service: an unknown event is a 404 whatever the body.
		if apperr.Is(err, apperr.Invalid) {
			if _, nf := h.Events.GetPublic(ctx, slug); nf != nil {
				err = nf
			}
		}
		h.Metrics.SignUpOutcome("", false, err)
		_ = c.Error(err)
		return
	}
	if !h.Limits.AllowSignupEmail(c, req.Email) {
		h.Metrics.SignUp(metrics.SignupRefused, apperr.RateLimited)
		return
	}
	if !h.Limits.AllowMemberNumber(c, req.MemberNumber) {
		h.Metrics.SignUp(metrics.SignupRefused, apperr.RateLimited)
		return
	}
	res, err := h.Registrations.SignUp(ctx, slug, req.input())
	if err != nil {
		h.Metrics.SignUpOutcome("", false, err)
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if res.CheckMail {
		// Members-only: member or not, registered before or not, the same
		// answer; the email to the address concerned tells which.
		h.Metrics.SignUpOutcome(registration.Pending, false, nil)
		c.JSON(http.StatusAccepted, gin.H{"check_email": true, "event": slug})
		return
	}
	h.Metrics.SignUpOutcome(res.Registration.Status, res.Existing, nil)
	if res.Existing {
		// Whoever knows an address must not get its owner's manage link or
		// tickets: those went to the address when it signed up, and the
		// address is told of this attempt (at most hourly).
		c.JSON(http.StatusOK, gin.H{"existing": true, "event": res.Registration.EventSlug})
		return
	}
	j := h.toRegistrationJSON(res.Registration)
	if j.ManageURL != "" {
		c.Header("Location", j.ManageURL)
	}
	c.JSON(http.StatusCreated, j)
}

// cancelRegistration is POST /registrations/:token/cancel; cancelling twice
// answers the same.
func (h *handler) cancelRegistration(c *gin.Context) {
	r, err := h.Registrations.Cancel(c.Request.Context(), c.Param("token"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.toRegistrationJSON(r))
}
