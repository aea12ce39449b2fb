package web

import (
	"fmt"
	"html"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/event"
)

type embedSnippet struct {
	ID, Title, Snippet, Preview string
	// TitleLang is set when the title is not in the page's language.
	TitleLang string
}

type adminEmbedPage struct {
	adminFrame
	OrgSnippet     embedSnippet
	Events         []embedSnippet
	FrameAncestors []string
}

// snippet is the HTML an organisation pastes into its website: the iframe
// and the script that sizes it (web/static/embed.js).
func (s *server) snippet(path, title string, height int) string {
	return fmt.Sprintf(`<iframe src="%s%s" title="%s" style="width:100%%;border:0" height="%d" loading="lazy"></iframe>
<script src="%s/static/embed.js" async></script>`,
		html.EscapeString(s.Config.BaseURL), html.EscapeString(path), html.EscapeString(title), height,
		html.EscapeString(s.Config.BaseURL))
}

// embedSnippets is GET /admin/orgs/:org/embed: the snippets to copy for the
// organisation's list of events and for each upcoming published event.
func (s *server) embedSnippets(c *gin.Context) {
	l := localizer(c)
	p := principal(c)
	evs, err := s.Events.List(c.Request.Context(), event.Filter{OrgSlug: p.OrgSlug, From: time.Now(), Limit: 200})
	if err != nil {
		_ = c.Error(err)
		return
	}
	orgPath := "/embed/orgs/" + p.OrgSlug + "?lang=" + l.Lang
	page := adminEmbedPage{
		adminFrame:     frame(c, "embed"),
		OrgSnippet:     embedSnippet{ID: "org", Title: p.OrgName, Snippet: s.snippet(orgPath, p.OrgName, 600), Preview: orgPath},
		FrameAncestors: s.Config.FrameAncestors,
	}
	for i := range evs {
		e := &evs[i]
		title, tl := e.Title.In(l.Lang, e.DefaultLang)
		path := "/embed/events/" + e.Slug + "?lang=" + l.Lang
		page.Events = append(page.Events, embedSnippet{ID: e.Slug, Title: title, TitleLang: otherLang(l, tl), Snippet: s.snippet(path, title, 900), Preview: path})
	}
	s.render(c, http.StatusOK, "admin_embed", l.T("admin.embed.heading", nil), page)
}
