package api

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/audit"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
)

// imageBodyBytes is the body limit of a picture upload: the largest picture
// plus room for the multipart framing and the alt texts.
const imageBodyBytes = event.MaxImageBytes + 64<<10

// imageJSON is an event's picture: its alt text per language, a src and a
// srcset to put into an <img>, and each stored copy.
type imageJSON struct {
	Alt    event.Texts     `json:"alt"`
	URL    string          `json:"url"`
	Srcset string          `json:"srcset"`
	Files  []imageFileJSON `json:"files"`
}

type imageFileJSON struct {
	URL         string `json:"url"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	ContentType string `json:"content_type"`
}

func (h *handler) toImageJSON(img *event.Image) *imageJSON {
	if img == nil || len(img.Files) == 0 {
		return nil
	}
	base := h.Config.BaseURL + "/images/"
	j := &imageJSON{Alt: img.Alt, URL: base + img.Medium().Name()}
	set := make([]string, len(img.Files))
	for i, f := range img.Files {
		j.Files = append(j.Files, imageFileJSON{URL: base + f.Name(), Width: f.Width, Height: f.Height, ContentType: f.ContentType})
		set[i] = base + f.Name() + " " + strconv.Itoa(f.Width) + "w"
	}
	j.Srcset = strings.Join(set, ", ")
	return j
}

// putImage is PUT /orgs/:org/events/:slug/image, multipart/form-data with
// the file in "image" and alt texts in alt_<lang>.
func (h *handler) putImage(c *gin.Context) {
	data, alt, err := readImageForm(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var e *event.Event
	err = h.audited(c, audit.Entry{Action: audit.EventUpdate, Target: c.Param("slug"), Details: map[string]any{"image": "set"}}, func(ctx context.Context) (err error) {
		e, err = h.Events.SetImage(ctx, principal(c).OrgID, c.Param("slug"), data, alt)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, h.toStaffEventJSON(e, "", h.now()))
}

// deleteImage is DELETE /orgs/:org/events/:slug/image.
func (h *handler) deleteImage(c *gin.Context) {
	var e *event.Event
	err := h.audited(c, audit.Entry{Action: audit.EventUpdate, Target: c.Param("slug"), Details: map[string]any{"image": "deleted"}}, func(ctx context.Context) (err error) {
		e, err = h.Events.DeleteImage(ctx, principal(c).OrgID, c.Param("slug"))
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.JSON(http.StatusOK, h.toStaffEventJSON(e, "", h.now()))
}

// readImageForm reads the upload: the bytes of "image" (its name and
// declared type are ignored: the service looks at the content) and the
// alt_<lang> fields.
func readImageForm(c *gin.Context) ([]byte, event.Texts, error) {
	if !strings.HasPrefix(c.ContentType(), "multipart/form-data") {
		return nil, nil, apperr.New(apperr.UnsupportedMedia, "err.multipart")
	}
	// Held in memory up to the body limit, so no temporary file is written.
	err := c.Request.ParseMultipartForm(imageBodyBytes)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, nil, apperr.New(apperr.TooLarge, "err.too_large")
	}
	if err != nil {
		return nil, nil, &apperr.Error{Code: apperr.BadRequest, Msg: apperr.M("err.multipart"), Cause: err}
	}
	defer c.Request.MultipartForm.RemoveAll() //nolint:errcheck // nothing on disk to remove
	alt := event.Texts{}
	for _, lang := range config.Languages {
		if v := c.Request.MultipartForm.Value["alt_"+lang]; len(v) > 0 {
			alt[lang] = v[0]
		}
	}
	files := c.Request.MultipartForm.File["image"]
	if len(files) == 0 {
		return nil, alt, apperr.Field("image", "err.required")
	}
	data, err := readPart(files[0])
	return data, alt, err
}

func readPart(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, &apperr.Error{Code: apperr.BadRequest, Msg: apperr.M("err.multipart"), Cause: err}
	}
	defer f.Close() //nolint:errcheck // read only
	data, err := io.ReadAll(io.LimitReader(f, event.MaxImageBytes+1))
	if err != nil {
		return nil, &apperr.Error{Code: apperr.BadRequest, Msg: apperr.M("err.multipart"), Cause: err}
	}
	return data, nil
}

// orNone is a list, [] rather than null when empty.
func orNone(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
