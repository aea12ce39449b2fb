package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	memberlist "treffpunkt/internal/member"
)

// maxMembersBody bounds a member list upload: about 50,000 members. The
// router lets bodies of this route grow to the same size.
const maxMembersBody = 4 << 20

// putMembers is PUT /orgs/:org/members: the member list from a CSV file
// (Content-Type text/csv; columns name,email,member_number,valid_until) or
// JSON ({"members": [{"name", "email", "member_number", "valid_until"}]}).
// It replaces the list, or with ?mode=merge adds and updates without
// removing anyone. A list with errors changes nothing; the answer names
// every bad line ("line.N.column") or entry ("members.I.field").
func (h *handler) putMembers(c *gin.Context) {
	mode := c.DefaultQuery("mode", memberlist.Replace)
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || (mt != "text/csv" && mt != "application/json") {
		_ = c.Error(apperr.New(apperr.UnsupportedMedia, "err.members_content_type"))
		return
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		_ = c.Error(apperr.New(apperr.UnsupportedMedia, "err.members_content_type"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxMembersBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		_ = c.Error(apperr.New(apperr.TooLarge, "err.too_large"))
		return
	}
	if err != nil {
		_ = c.Error(&apperr.Error{Code: apperr.BadRequest, Msg: apperr.M("err.invalid"), Cause: err})
		return
	}
	if !utf8.Valid(body) {
		_ = c.Error(apperr.New(apperr.Invalid, "err.text.utf8"))
		return
	}
	orgID := principal(c).OrgID
	var res *memberlist.Result
	entry := audit.Entry{Action: audit.MembersImport, Details: map[string]any{"mode": mode, "format": mt}}
	if mt == "text/csv" {
		err = h.audited(c, entry, func(ctx context.Context) (err error) {
			res, err = h.Members.ImportCSV(ctx, orgID, body, mode)
			return err
		})
	} else {
		var in struct {
			Members []memberlist.Input `json:"members"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if derr := dec.Decode(&in); derr != nil || dec.More() || in.Members == nil {
			_ = c.Error(&apperr.Error{Code: apperr.BadRequest, Msg: apperr.M("err.members_json"), Cause: derr})
			return
		}
		err = h.audited(c, entry, func(ctx context.Context) (err error) {
			res, err = h.Members.ImportJSON(ctx, orgID, in.Members, mode)
			return err
		})
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, res)
}
