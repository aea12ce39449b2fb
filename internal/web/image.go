package web

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/event"
	"treffpunkt/internal/httpcode"
)

// imageName is a stored copy's name: the sha256 of its bytes and an
// extension (event.ImageFile.Name).
var imageName = regexp.MustCompile(`^([0-9a-f]{64})\.(jpg|png)$`)

// isImageRequest: pictures use no cookies or forms, and must not carry a
// session cookie into a response that caches publicly.
func isImageRequest(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, "/images/")
}

// image is GET /images/:name. The name is the hash of the bytes, so the
// answer never changes and may be cached for a year by anyone; a new
// picture has new names.
func (s *server) image(c *gin.Context) {
	m := imageName.FindStringSubmatch(c.Param("name"))
	if m == nil {
		_ = c.Error(httpcode.NotFound())
		return
	}
	etag := `"` + m[1] + `"`
	if c.GetHeader("If-None-Match") == etag {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
		c.Header("ETag", etag)
		c.Status(http.StatusNotModified)
		return
	}
	data, ctype, err := s.Events.ImageData(c.Request.Context(), m[1])
	if err != nil {
		_ = c.Error(err)
		return
	}
	if (ctype == "image/png") != (m[2] == "png") {
		_ = c.Error(httpcode.NotFound())
		return
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", etag)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, ctype, data)
}

// imageView is what templates need to show a picture: src, srcset, the
// size of the src (so the page does not jump while it loads) and the alt
// text in the page's language.
type imageView struct {
	Src, Srcset, Alt string
	Width, Height    int
}

// imageOf is the view of e's picture in lang, nil without one. base is ""
// for pages (relative URLs) or the public base URL (link previews).
func imageOf(e *event.Event, lang, base string) *imageView {
	if e.Image == nil || len(e.Image.Files) == 0 {
		return nil
	}
	med := e.Image.Medium()
	v := &imageView{Src: base + "/images/" + med.Name(), Alt: e.Image.AltIn(lang, e.DefaultLang), Width: med.Width, Height: med.Height}
	set := make([]string, len(e.Image.Files))
	for i, f := range e.Image.Files {
		set[i] = base + "/images/" + f.Name() + " " + strconv.Itoa(f.Width) + "w"
	}
	v.Srcset = strings.Join(set, ", ")
	return v
}
