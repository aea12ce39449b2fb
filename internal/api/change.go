package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/registration"
)

// changeRequest is the body of PATCH /registrations/:token: every field is
// optional, an absent (or null) one stays as it is. Any other name is a 422
// naming it (decodeJSON).
type changeRequest struct {
	Name      *string `json:"name"`
	PartySize *int    `json:"party_size"`
	Lang      *string `json:"lang"`
	// Answers replace every answer when given.
	Answers  map[string]any `json:"answers"`
	Sessions *[]string      `json:"sessions"`
}

// changeRegistration is PATCH /registrations/:token: the participant
// changes their registration through its manage token and gets it back as
// the sign-up answered it.
func (h *handler) changeRegistration(c *gin.Context) {
	var req changeRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	r, err := h.Registrations.Change(c.Request.Context(), c.Param("token"), registration.ChangeInput{
		Name: req.Name, PartySize: req.PartySize, Lang: req.Lang, Answers: req.Answers, Sessions: req.Sessions,
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.toRegistrationJSON(r))
}
