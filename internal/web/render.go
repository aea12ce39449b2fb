package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/justinas/nosurf"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/i18n"
	"treffpunkt/web"
)

// View is what every page template gets: the page's own data in .Data and
// the common parts (language, CSRF token, base URL) beside it.
type View struct {
	L         *i18n.Localizer
	Lang      string
	Dir       string
	Title     string
	CSRFToken string
	BaseURL   string
	// Path and Query are the current address, for the language switcher's
	// links: switching keeps the page and its filters.
	Path      string
	Query     url.Values
	Languages []string
	// User is the signed-in staff member (nil for everyone else), for the
	// header's link to the organisers' area; Flash a message for them.
	User  *auth.User
	Flash string
	// Embed pages (/embed/…) are shown in an iframe, in the frame layout.
	Embed bool
	Data  any
}

// LangHref is the current page's address in lang.
func (v *View) LangHref(lang string) string {
	q := url.Values{}
	for k, vs := range v.Query {
		q[k] = vs
	}
	q.Set("lang", lang)
	return v.Path + "?" + q.Encode()
}

// T translates a message id with key/value template data.
func (v *View) T(id string, kv ...any) string {
	if len(kv) == 0 {
		return v.L.T(id, nil)
	}
	data := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		data[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return v.L.T(id, data)
}

// N translates a message with plural forms.
func (v *View) N(id string, count int) string { return v.L.N(id, count, nil) }

var funcs = template.FuncMap{
	"dirOf":    i18n.Dir,
	"langName": i18n.Name,
}

// parsedPages parses the embedded pages once per process: the templates
// never change and are safe to execute concurrently, so every router (the
// tests start hundreds) shares them.
var parsedPages = sync.OnceValues(parsePages)

// parsePages builds one template set per page: the layout, the partials and
// the page, so that each page defines its own "content" block.
func parsePages() (map[string]*template.Template, error) {
	pages, err := fs.Glob(web.FS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*template.Template, len(pages))
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(web.FS, "templates/layout.html", "templates/partials/*.html", p)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// render writes a page, rendered into a buffer first so that a template
// error becomes a clean 500 rather than half a page.
func (s *server) render(c *gin.Context, status int, page, title string, data any) {
	l := localizer(c)
	v := &View{
		L: l, Lang: l.Lang, Dir: i18n.Dir(l.Lang), Title: title,
		CSRFToken: nosurf.Token(c.Request), BaseURL: s.Config.BaseURL,
		Path: c.Request.URL.Path, Query: c.Request.URL.Query(), Languages: s.Catalogue.Languages(), Data: data,
		User: user(c), Embed: isEmbed(c),
	}
	if id := s.popFlash(c); id != "" {
		v.Flash = l.T(id, nil)
	}
	s.writePage(c.Writer, status, page, v)
}

func (s *server) writePage(w http.ResponseWriter, status int, page string, v *View) {
	var buf bytes.Buffer
	t, ok := s.pages[page]
	if !ok {
		s.Log.Error("unknown page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	layout := "layout"
	if v.Embed {
		layout = "embed_layout"
	}
	if err := t.ExecuteTemplate(&buf, layout, v); err != nil {
		s.Log.Error("render page", "page", page, "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the data of the error template.
type errorPage struct {
	Status  int
	Message string
}

// renderPlainError renders the error page outside Gin (the CSRF failure
// handler runs before the router).
func (s *server) renderPlainError(w http.ResponseWriter, r *http.Request, status int, msgID string) {
	cookie := ""
	if c, err := r.Cookie(langCookie); err == nil {
		cookie = c.Value
	}
	l := s.Catalogue.For(s.Catalogue.Match([]string{r.URL.Query().Get("lang"), cookie}, r.Header.Get("Accept-Language")))
	v := &View{
		L: l, Lang: l.Lang, Dir: i18n.Dir(l.Lang), Title: l.T("title.error", nil),
		BaseURL: s.Config.BaseURL, Path: r.URL.Path, Query: r.URL.Query(), Languages: s.Catalogue.Languages(),
		Data: errorPage{Status: status, Message: l.T(msgID, nil)},
	}
	s.writePage(w, status, "error", v)
}
