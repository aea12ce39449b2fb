// Package audit is the log of staff actions that owners read: who changed
// which event, exported which list, erased which registration, imported
// members, issued or revoked tokens, changed roles (docs/operations.md).
//
// An entry is written in the action's own transaction when the action runs
// one (database.WithTx with the context Begin returns); Done writes it
// afterwards when the action ran none (an export is a read). Entries name
// participants by registration id only: erasing someone's data must not
// leave their name behind here.
package audit

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/database"
)

// Actions.
const (
	EventCreate         = "events.create"
	EventUpdate         = "events.update"
	EventCancel         = "events.cancel"
	EventDuplicate      = "events.duplicate"
	RegistrationsExport = "registrations.export"
	RegistrationCancel  = "registration.cancel"
	RegistrationMoveUp  = "registration.move_up"
	RegistrationResend  = "registration.resend"
	RegistrationErase   = "registration.erase"
	MembersImport       = "members.import"
	StaffInvite         = "staff.invite"
	StaffRole           = "staff.role"
	StaffRemove         = "staff.remove"
	TokenCreate         = "token.create"
	TokenRevoke         = "token.revoke"
	// CheckinWalkIn: a party let in at the door without a sign-up;
	// RegistrationsReleaseNoShows: the places of those not checked in
	// given away (issue 21).
	CheckinWalkIn               = "walk_in.create"
	RegistrationsReleaseNoShows = "registrations.release_no_shows"
	// RegistrationChange: an organiser changed a registration's party
	// size, name, language or answers (issue 18).
	RegistrationChange = "registration.change"
	// MessageSend: a message to an event's registrants (issue 19).
	MessageSend = "message.send"
	// OrgSettings: the organisation's notification settings changed.
	OrgSettings = "notify.settings"
	// RegistrationApprove, RegistrationDecline: an organiser decided on
	// applications (selection by approval, issue 19).
	RegistrationApprove = "registration.approve"
	RegistrationDecline = "registration.decline"
)

// Actions lists every action, for the catalogue test and the docs.
var Actions = []string{
	EventCreate, EventUpdate, EventCancel, EventDuplicate, RegistrationsExport,
	RegistrationCancel, RegistrationMoveUp, RegistrationResend, RegistrationErase,
	MembersImport, StaffInvite, StaffRole, StaffRemove, TokenCreate, TokenRevoke,
	CheckinWalkIn, RegistrationsReleaseNoShows, RegistrationChange, MessageSend, OrgSettings,
	RegistrationApprove, RegistrationDecline,
}

// Label is the message id that names an action on the owners' page.
func Label(action string) string { return "audit." + strings.ReplaceAll(action, ".", "_") }

// Entry is one action: by a staff account (UserID) or an API token
// (TokenID) in an organisation.
type Entry struct {
	OrgID   int64
	UserID  int64
	TokenID int64
	Action  string
	Target  string
	// TargetUserID names a staff account as the target (its email, when
	// Target is empty).
	TargetUserID int64
	Details      map[string]any
}

// Log writes and reads the audit log.
type Log struct{ db *sqlx.DB }

// New builds the audit log on db.
func New(db *sqlx.DB) *Log { return &Log{db: db} }

// Begin returns a context under which the action's transaction (the first
// that commits) also writes e, and the pending entry to finish with Done.
func (l *Log) Begin(ctx context.Context, e Entry) (context.Context, *Pending) {
	if l == nil {
		return ctx, nil
	}
	p := &Pending{db: l.db, e: e}
	return database.WithHook(ctx, p), p
}

// Do runs act as an audited action: the entry is written in act's
// transaction, or right after it when act ran none. A failed act leaves no
// entry.
func (l *Log) Do(ctx context.Context, e Entry, act func(ctx context.Context) error) error {
	ctx, pending := l.Begin(ctx, e)
	if err := act(ctx); err != nil {
		return err
	}
	return pending.Done(ctx, nil)
}

// Pending is an entry waiting for its action.
type Pending struct {
	db      *sqlx.DB
	e       Entry
	mu      sync.Mutex
	written bool
	inTx    bool
}

// BeforeCommit writes the entry in the action's transaction (once).
func (p *Pending) BeforeCommit(ctx context.Context, tx *sqlx.Tx) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.written {
		return nil
	}
	if err := insert(ctx, tx, p.e); err != nil {
		return err
	}
	p.inTx = true
	return nil
}

// Note adds a detail that the action's transaction learns before it
// commits (database.Note), such as the id of the registration it created;
// the entry written in that transaction carries it.
func (p *Pending) Note(key string, value any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	details := make(map[string]any, len(p.e.Details)+1)
	for k, v := range p.e.Details {
		details[k] = v
	}
	details[key] = value
	p.e.Details = details
}

// Committed marks the entry written.
func (p *Pending) Committed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inTx {
		p.written = true
	}
	p.inTx = false
}

// Done is called after the action succeeded: it writes the entry unless
// the action's transaction already did. details are merged into the
// entry's (what only the action's result tells, such as a new id).
func (p *Pending) Done(ctx context.Context, details map[string]any) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.written {
		return nil
	}
	for k, v := range details {
		if p.e.Details == nil {
			p.e.Details = map[string]any{}
		}
		p.e.Details[k] = v
	}
	if err := insert(context.WithoutCancel(ctx), p.db, p.e); err != nil {
		return apperr.Wrap(err, "audit log")
	}
	p.written = true
	return nil
}

func insert(ctx context.Context, db sqlx.ExecerContext, e Entry) error {
	details := []byte("{}")
	if len(e.Details) > 0 {
		var err error
		if details, err = json.Marshal(e.Details); err != nil {
			return err
		}
	}
	_, err := db.ExecContext(ctx, `
		INSERT INTO audit_log (org_id, actor_user_id, actor_token_id, actor, action, target, details)
		VALUES (NULLIF($1, 0), NULLIF($2, 0), NULLIF($3, 0),
		        COALESCE((SELECT email FROM staff_users WHERE id = $2),
		                 (SELECT 'API token #' || id || CASE WHEN name <> '' THEN ' (' || name || ')' ELSE '' END
		                    FROM api_tokens WHERE id = $3),
		                 'system'),
		        $4, COALESCE(NULLIF($5, ''), (SELECT email FROM staff_users WHERE id = $7), ''), $6)`,
		e.OrgID, e.UserID, e.TokenID, e.Action, e.Target, details, e.TargetUserID)
	return err
}

// Row is an entry as owners read it.
type Row struct {
	ID      int64           `db:"id" json:"id"`
	At      time.Time       `db:"at" json:"at"`
	Actor   string          `db:"actor" json:"actor"`
	Action  string          `db:"action" json:"action"`
	Target  string          `db:"target" json:"target"`
	Details json.RawMessage `db:"details" json:"details"`
}

// PageSize is how many entries a page holds.
const PageSize = 50

// List returns an organisation's entries newest first, those older than
// before (an id; 0 = from the newest), at most PageSize, and the id to ask
// for the next page with (0 when there is none).
func (l *Log) List(ctx context.Context, orgID, before int64) ([]Row, int64, error) {
	rows := []Row{}
	if l == nil {
		return rows, 0, nil
	}
	err := l.db.SelectContext(ctx, &rows, `
		SELECT id, at, actor, action, target, details FROM audit_log
		WHERE org_id = $1 AND ($2 = 0 OR id < $2)
		ORDER BY id DESC LIMIT $3`, orgID, before, PageSize+1)
	if err != nil {
		return nil, 0, apperr.Wrap(err, "audit log")
	}
	var next int64
	if len(rows) > PageSize {
		rows = rows[:PageSize]
		next = rows[PageSize-1].ID
	}
	return rows, next, nil
}
