package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"treffpunkt/internal/testutil"
)

// uploadPicture sends the editor's picture form (multipart, with the
// session's CSRF token) and returns status, Location and body.
func (c *admClient) uploadPicture(path string, data []byte, alt map[string]string) (int, string, string) {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("csrf_token", c.csrf)
	for k, v := range alt {
		_ = w.WriteField(k, v)
	}
	part, _ := w.CreateFormFile("image", "photo.jpg")
	_, _ = part.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", c.base)
	resp, err := c.Client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

var imgTagRE = regexp.MustCompile(`<img class="picture" src="(/images/[0-9a-f]{64}\.jpg)" srcset="([^"]+)" sizes="[^"]+" width="(\d+)" height="(\d+)" alt="([^"]*)"`)

// TestEditorUploadsAPictureThatEveryPageShows: the editor's form stores a
// picture; the list, the event page and the embed show it with srcset and
// the alt text of the reader's language; a form without alt text in the
// default language is re-shown with the field marked.
func TestEditorUploadsAPictureThatEveryPageShows(t *testing.T) {
	t.Parallel()
	w := admNewWorld(t)
	c := w.client(w.A.Organiser)
	path := "/admin/orgs/a/events/" + w.A.Event.Slug

	code, _, body := c.uploadPicture(path+"/image", testutil.JPEGWithGPS(900, 90), map[string]string{"alt_en": "Only English"})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-alt_de"`) || !strings.Contains(body, `id="f-alt_de"`) {
		t.Fatalf("no German alt text: %d\n%.600s", code, body)
	}
	code, _, body = c.uploadPicture(path+"/image", []byte("not a picture at all"), map[string]string{"alt_de": "Hof"})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-image"`) {
		t.Fatalf("not a picture: %d", code)
	}

	code, loc, _ := c.uploadPicture(path+"/image", testutil.JPEGWithGPS(900, 90), map[string]string{"alt_de": "Menschen im Hof", "alt_ar": "أناس في الفناء"})
	if code != http.StatusSeeOther || loc != path+"#picture" {
		t.Fatalf("upload: %d %q", code, loc)
	}
	_, editor := c.Get(path)
	if !strings.Contains(editor, `id="image-current"`) || !strings.Contains(editor, `value="Menschen im Hof"`) {
		t.Error("the editor does not show the stored picture and its alt text")
	}

	b := w.Browser(t)
	for _, page := range []struct{ path, alt string }{
		{"/?lang=de", "Menschen im Hof"},
		{"/events/" + w.A.Event.Slug + "?lang=de", "Menschen im Hof"},
		{"/events/" + w.A.Event.Slug + "?lang=ar", "أناس في الفناء"},
		{"/events/" + w.A.Event.Slug + "?lang=en", "Menschen im Hof"},
		{"/orgs/a?lang=de", "Menschen im Hof"},
		{"/embed/orgs/a?lang=de", "Menschen im Hof"},
		{"/embed/events/" + w.A.Event.Slug + "?lang=de", "Menschen im Hof"},
	} {
		_, html := b.Get(page.path)
		m := imgTagRE.FindStringSubmatch(html)
		if m == nil {
			t.Errorf("%s: no picture", page.path)
			continue
		}
		if m[5] != page.alt {
			t.Errorf("%s: alt %q, want %q", page.path, m[5], page.alt)
		}
		if n := strings.Count(m[2], "w, ") + 1; n != 3 || !strings.Contains(m[2], " 400w") || !strings.Contains(m[2], " 900w") {
			t.Errorf("%s: srcset %q", page.path, m[2])
		}
		if m[3] != "800" || m[4] != "80" {
			t.Errorf("%s: size %sx%s, want 800x80", page.path, m[3], m[4])
		}
	}

	if code, loc, _ := c.do(http.MethodPost, path+"/image/delete"); code != http.StatusSeeOther || loc != path+"#picture" {
		t.Fatalf("delete: %d %q", code, loc)
	}
	if _, html := b.Get("/events/" + w.A.Event.Slug); strings.Contains(html, `class="picture"`) {
		t.Error("the deleted picture is still shown")
	}
}
