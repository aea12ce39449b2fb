package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/audit"
	"treffpunkt/internal/message"
)

// messageJSON is a message in GET …/messages.
type messageJSON struct {
	ID         int64             `json:"id"`
	Subject    map[string]string `json:"subject"`
	Sender     string            `json:"sender"`
	SentAt     time.Time         `json:"sent_at"`
	To         message.To        `json:"to"`
	Recipients int               `json:"recipients"`
	Delivered  int               `json:"delivered"`
	Failed     int               `json:"failed"`
	Queued     int               `json:"queued"`
}

// sendMessage is POST /orgs/:org/events/:slug/messages (organiser): 202
// with the message's id and how many it goes to; the same idempotency key
// again answers the first message and sends nothing.
func (h *handler) sendMessage(c *gin.Context) {
	var in message.Input
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	// The entry is written in the message's transaction; a repeat of a
	// key runs none and is not logged again.
	ctx, pending := h.Audit.Begin(c.Request.Context(), audit.Entry{
		OrgID: p.OrgID, UserID: p.UserID, TokenID: p.TokenID, Action: audit.MessageSend, Target: c.Param("slug"),
		Details: map[string]any{"status": in.To.Status, "sessions": in.To.Sessions},
	})
	sent, err := h.Messages.Send(ctx, p.OrgID, c.Param("slug"), in, message.Sender{UserID: p.UserID, TokenID: p.TokenID})
	if err == nil && sent.Created {
		err = pending.Done(ctx, nil)
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"id": sent.ID, "recipients": sent.Recipients})
}

// listMessages is GET /orgs/:org/events/:slug/messages: newest first,
// with how many of each were delivered, failed or wait.
func (h *handler) listMessages(c *gin.Context) {
	ms, err := h.Messages.List(c.Request.Context(), principal(c).OrgID, c.Param("slug"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]messageJSON, len(ms))
	for i, m := range ms {
		out[i] = messageJSON{ID: m.ID, Subject: m.Subject, Sender: m.Sender, SentAt: m.CreatedAt.UTC(),
			To: message.To{Status: m.ToStatus, Sessions: m.ToSessions}, Recipients: m.Recipients,
			Delivered: m.Delivered, Failed: m.Failed, Queued: m.Queued}
	}
	c.JSON(http.StatusOK, gin.H{"messages": out})
}
