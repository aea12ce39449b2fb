package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/checkin"
	"treffpunkt/internal/httpcode"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/member"
)

// maxUploadBytes bounds a member list upload (the API allows the same): about
// 50,000 members.
const maxUploadBytes = 4 << 20

// bodyLimit is the body limit of a request: member list uploads may be
// larger than the forms and JSON bodies everything else takes.
func bodyLimit(r *http.Request) int64 {
	p := r.URL.Path
	if (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.HasSuffix(p, "/members") && strings.HasPrefix(p, "/admin/orgs/") {
		return maxUploadBytes
	}
	// An event's picture (admin_image.go).
	if isImageUpload(r) {
		return imageBodyBytes
	}
	// Camera frames for the server-side QR decoder (docs/checkin.md).
	if r.Method == http.MethodPost && strings.HasPrefix(p, "/checkin/events/") && strings.HasSuffix(p, "/decode") {
		return checkin.MaxFrameBytes
	}
	return httpcode.MaxBodyBytes
}

// membersShown bounds the list on the page; the search finds the rest.
const membersShown = 200

type lineError struct {
	Line    int
	Column  string
	Message string
}

type membersPage struct {
	adminFrame
	Query   string
	Members []member.Member
	Total   int
	Result  *member.Result
	Mode    string
	Errors  []lineError
	Problem string
	Columns string
}

// membersPage is GET /admin/orgs/:org/members: the member list with a
// search, and the upload form.
func (s *server) membersPage(c *gin.Context) {
	s.renderMembers(c, http.StatusOK, membersPage{Query: strings.ToValidUTF8(c.Query("q"), ""), Mode: member.Merge})
}

func (s *server) renderMembers(c *gin.Context, status int, p membersPage) {
	ms, total, err := s.Members.List(c.Request.Context(), principal(c).OrgID, p.Query, membersShown)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p.adminFrame, p.Members, p.Total = frame(c, "members"), ms, total
	p.Columns = strings.Join(member.Columns, ",")
	s.render(c, status, "admin_members", localizer(c).T("admin.members.title", nil), p)
}

// uploadMembers is POST /admin/orgs/:org/members: a CSV file, replacing or
// merged into the list. A file with errors changes nothing and is answered
// with every bad line.
func (s *server) uploadMembers(c *gin.Context) {
	l := localizer(c)
	mode := c.PostForm("mode")
	p := membersPage{Mode: mode}
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			_ = c.Error(apperr.New(apperr.TooLarge, "err.too_large"))
			return
		}
		p.Problem = l.T("err.member_file_missing", nil)
		s.renderMembers(c, http.StatusUnprocessableEntity, p)
		return
	}
	f, err := fh.Open()
	if err != nil {
		_ = c.Error(apperr.Wrap(err, "open upload"))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUploadBytes))
	if err != nil {
		_ = c.Error(apperr.Wrap(err, "read upload"))
		return
	}
	var res *member.Result
	err = s.audited(c, audit.Entry{Action: audit.MembersImport, Details: map[string]any{"mode": mode}}, func(ctx context.Context) (err error) {
		res, err = s.Members.ImportCSV(ctx, principal(c).OrgID, data, mode)
		return err
	})
	if err != nil {
		ae := apperr.From(err)
		if ae.Code != apperr.Invalid {
			_ = c.Error(err)
			return
		}
		p.Errors = lineErrors(l, ae)
		s.renderMembers(c, http.StatusUnprocessableEntity, p)
		return
	}
	p.Result = res
	s.renderMembers(c, http.StatusOK, p)
}

// lineErrors turns fields "line.N[.column]" (and "file", "mode") into a
// list ordered by line.
func lineErrors(l *i18n.Localizer, ae *apperr.Error) []lineError {
	var out []lineError
	for field, m := range ae.Fields {
		e := lineError{Message: l.T(m.ID, m.Data)}
		parts := strings.SplitN(field, ".", 3)
		if len(parts) >= 2 && parts[0] == "line" {
			e.Line, _ = strconv.Atoi(parts[1])
			if len(parts) == 3 {
				e.Column = parts[2]
			}
		} else {
			e.Column = field
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Column < out[j].Column
	})
	return out
}
