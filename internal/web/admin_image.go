package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
)

// imageBodyBytes is the body limit of a picture upload from the editor:
// the largest picture plus the form's other fields.
const imageBodyBytes = event.MaxImageBytes + 64<<10

func isImageUpload(r *http.Request) bool {
	p := r.URL.Path
	return r.Method == http.MethodPost && strings.HasPrefix(p, "/admin/orgs/") && strings.HasSuffix(p, "/image")
}

// uploadImage is POST /admin/orgs/:org/events/:slug/image: the editor's
// picture form (multipart: "image" and alt_<lang>).
func (s *server) uploadImage(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	data, alt, err := readImageForm(c)
	if err == nil {
		err = s.audited(c, audit.Entry{Action: audit.EventUpdate, Target: e.Slug, Details: map[string]any{"image": "set"}}, func(ctx context.Context) error {
			_, err := s.Events.SetImage(ctx, principal(c).OrgID, e.Slug, data, alt)
			return err
		})
	}
	if err != nil {
		if ae := apperr.From(err); ae.Code == apperr.Invalid || ae.Code == apperr.TooLarge || ae.Code == apperr.BadRequest {
			form := formFromEvent(e)
			s.renderEditor(c, http.StatusUnprocessableEntity, e, form, imageFieldError(ae))
			return
		}
		_ = c.Error(err)
		return
	}
	s.flash(c, "admin.flash.image_saved")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/events/"+e.Slug+"#picture")
}

// imageFieldError shows a refusal that concerns the request as a whole
// (too large, unreadable) at the file field.
func imageFieldError(ae *apperr.Error) error {
	if len(ae.Fields) > 0 {
		return ae
	}
	return apperr.Field("image", ae.Msg.ID, mapKV(ae.Msg.Data)...)
}

func mapKV(m map[string]any) []any {
	var kv []any
	for k, v := range m {
		kv = append(kv, k, v)
	}
	return kv
}

// deleteImage is POST /admin/orgs/:org/events/:slug/image/delete.
func (s *server) deleteImage(c *gin.Context) {
	e, err := s.orgEvent(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	err = s.audited(c, audit.Entry{Action: audit.EventUpdate, Target: e.Slug, Details: map[string]any{"image": "deleted"}}, func(ctx context.Context) error {
		_, err := s.Events.DeleteImage(ctx, principal(c).OrgID, e.Slug)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.flash(c, "admin.flash.image_deleted")
	c.Redirect(http.StatusSeeOther, s.orgPath(c)+"/events/"+e.Slug+"#picture")
}

// readImageForm reads the upload: the bytes of "image" (its name and
// declared type are ignored: the service looks at the content) and the
// alt_<lang> fields.
func readImageForm(c *gin.Context) ([]byte, event.Texts, error) {
	// The CSRF check has parsed the form already, in memory up to the body
	// limit (nosurf's default is 32 MB), so no temporary file is written.
	err := c.Request.ParseMultipartForm(imageBodyBytes)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, nil, apperr.New(apperr.TooLarge, "err.too_large")
	}
	if err != nil {
		return nil, nil, apperr.Field("image", "err.required")
	}
	defer c.Request.MultipartForm.RemoveAll() //nolint:errcheck // nothing on disk to remove
	alt := event.Texts{}
	for _, lang := range config.Languages {
		if v := c.Request.MultipartForm.Value["alt_"+lang]; len(v) > 0 {
			alt[lang] = v[0]
		}
	}
	files := c.Request.MultipartForm.File["image"]
	if len(files) == 0 || files[0].Size == 0 {
		return nil, alt, apperr.Field("image", "err.required")
	}
	f, err := files[0].Open()
	if err != nil {
		return nil, alt, apperr.Field("image", "err.required")
	}
	defer f.Close() //nolint:errcheck // read only
	data, err := io.ReadAll(io.LimitReader(f, event.MaxImageBytes+1))
	if err != nil {
		return nil, alt, apperr.Field("image", "err.required")
	}
	return data, alt, nil
}
