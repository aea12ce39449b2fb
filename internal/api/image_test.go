package api_test

import (
	"bytes"
	"encoding/json"
	"image"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"treffpunkt/internal/auth"
	"treffpunkt/internal/testutil"
)

// multipartBody is a picture upload: the file under "image" with the given
// name and declared type, and the alt texts.
func multipartBody(t *testing.T, name, ctype string, data []byte, alt map[string]string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range alt {
		_ = w.WriteField(k, v)
	}
	if data != nil {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="image"; filename="` + name + `"`}
		h["Content-Type"] = []string{ctype}
		part, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = part.Write(data)
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

func (a *app) putImage(token, slug, name, ctype string, data []byte, alt map[string]string) *response {
	a.t.Helper()
	body, ct := multipartBody(a.t, name, ctype, data, alt)
	return a.do(request{Method: http.MethodPut, Path: "/api/v1/orgs/miso/events/" + slug + "/image", ContentType: ct, Body: body, Token: token})
}

type imageAnswer struct {
	Image *struct {
		Alt    map[string]string `json:"alt"`
		URL    string            `json:"url"`
		Srcset string            `json:"srcset"`
		Files  []struct {
			URL         string `json:"url"`
			Width       int    `json:"width"`
			Height      int    `json:"height"`
			ContentType string `json:"content_type"`
		} `json:"files"`
	} `json:"image"`
}

// TestPictureComesBackWithoutItsGPSMetadata: a PNG and a JPEG carrying GPS
// coordinates in EXIF (and a text comment) are stored as re-encoded copies
// in which no byte of that metadata survives; the copies are served at
// content-addressed URLs that may be cached for ever, in the list too.
func TestPictureComesBackWithoutItsGPSMetadata(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	a.event(miso.ID, "fest", nil)
	tok := a.token(miso.ID, auth.Organiser)

	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"photo.png", testutil.PNGWithGPS(1000, 100, false)},
		{"photo.jpg", testutil.JPEGWithGPS(1000, 100)},
	} {
		if !bytes.Contains(tc.data, []byte(testutil.GPSMarker)) || !bytes.Contains(tc.data, testutil.ExifHeader) {
			t.Fatalf("%s: the test picture lacks its metadata", tc.name)
		}
		r := a.putImage(tok, "fest", tc.name, "application/octet-stream", tc.data, map[string]string{"alt_de": "Menschen tanzen im Hof", "alt_ar": "أناس يرقصون"})
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.name, r.Status, r.Body)
		}
		var ans imageAnswer
		if err := json.Unmarshal(r.Body, &ans); err != nil || ans.Image == nil {
			t.Fatalf("%s: no image in %s", tc.name, r.Body)
		}
		if ans.Image.Alt["de"] != "Menschen tanzen im Hof" || ans.Image.Alt["ar"] != "أناس يرقصون" {
			t.Errorf("alt %v", ans.Image.Alt)
		}
		widths := []int{}
		for _, f := range ans.Image.Files {
			widths = append(widths, f.Width)
			if !strings.Contains(ans.Image.Srcset, f.URL+" "+strconv.Itoa(f.Width)+"w") {
				t.Errorf("srcset %q lacks %s", ans.Image.Srcset, f.URL)
			}
			path := strings.TrimPrefix(f.URL, a.Config.BaseURL)
			res := a.get(path, "")
			if res.Status != http.StatusOK {
				t.Fatalf("GET %s: %d", path, res.Status)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control %q", cc)
			}
			if ct := res.Header.Get("Content-Type"); ct != f.ContentType || ct != "image/jpeg" {
				t.Errorf("Content-Type %q, listed %q", ct, f.ContentType)
			}
			if res.Header.Get("Set-Cookie") != "" {
				t.Error("a publicly cached picture sets a cookie")
			}
			for _, leak := range [][]byte{[]byte(testutil.GPSMarker), testutil.ExifHeader, []byte("Exif"), []byte("eXIf")} {
				if bytes.Contains(res.Body, leak) {
					t.Errorf("%s → %s keeps %q", tc.name, path, leak)
				}
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(res.Body))
			if err != nil || format != "jpeg" || cfg.Width != f.Width || cfg.Height != f.Height {
				t.Errorf("%s: %s %dx%d %v", path, format, cfg.Width, cfg.Height, err)
			}
		}
		if len(widths) != 3 || widths[0] != 400 || widths[1] != 800 || widths[2] != 1000 {
			t.Errorf("%s: widths %v, want 400 800 1000 (never scaled up)", tc.name, widths)
		}
	}
	// The public list shows the picture too.
	var list struct{ Events []imageAnswer }
	if err := json.Unmarshal(a.get("/api/v1/events", "").Body, &list); err != nil || len(list.Events) != 1 || list.Events[0].Image == nil {
		t.Fatalf("list: %+v %v", list, err)
	}
	if a.count(`SELECT count(*) FROM event_image_files`) != 3 {
		t.Error("the second upload did not replace the first")
	}
	if r := a.do(request{Method: http.MethodDelete, Path: "/api/v1/orgs/miso/events/fest/image", Token: tok}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"image":null`) {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if a.count(`SELECT count(*) FROM event_image_files`) != 0 {
		t.Error("delete left copies behind")
	}
}

// TestPictureUploadRefusesWhatIsNoPicture: a text file named .jpg and
// declared image/jpeg, a decompression bomb, a GIF and a missing alt text in
// the default language are refused with 422 naming the field; nothing is
// stored.
func TestPictureUploadRefusesWhatIsNoPicture(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	miso := a.org("miso")
	a.event(miso.ID, "fest", nil)
	tok := a.token(miso.ID, auth.Organiser)
	alt := map[string]string{"alt_de": "Ein Bild"}
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x00;")
	for _, tc := range []struct {
		name, file, ctype string
		data              []byte
		alt               map[string]string
		field             string
	}{
		{"text named .jpg", "photo.jpg", "image/jpeg", []byte("<?php echo 'not a picture'; ?>\n"), alt, "image"},
		{"jpeg header, no picture", "photo.jpg", "image/jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00garbage"), alt, "image"},
		{"bomb", "bomb.png", "image/png", testutil.PNGBomb(100_000, 100_000), alt, "image"},
		{"gif", "anim.gif", "image/gif", gif, alt, "image"},
		{"no alt in default language", "p.png", "image/png", testutil.PNGWithGPS(50, 50, false), map[string]string{"alt_en": "A picture"}, "alt_de"},
		{"no file", "", "", nil, alt, "image"},
	} {
		r := a.putImage(tok, "fest", tc.file, tc.ctype, tc.data, tc.alt)
		e := r.apiErr(t, http.StatusUnprocessableEntity, "invalid")
		if e.Fields[tc.field] == "" {
			t.Errorf("%s: fields %v lack %s", tc.name, e.Fields, tc.field)
		}
	}
	if a.count(`SELECT count(*) FROM event_images`) != 0 {
		t.Error("a refused upload was stored")
	}
	// Only multipart is taken; a body over the route's limit is 413; other
	// routes keep their small limit.
	if r := a.postJSON(http.MethodPut, "/api/v1/orgs/miso/events/fest/image", tok, `{}`); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("JSON body: %d %s", r.Status, r.Body)
	}
	big := bytes.Repeat([]byte{0}, 11<<20)
	if r := a.putImage(tok, "fest", "big.png", "image/png", big, alt); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("11 MB: %d %s", r.Status, r.Body[:min(len(r.Body), 200)])
	}
	body, ct := multipartBody(t, "p.png", "image/png", bytes.Repeat([]byte{0}, 100<<10), alt)
	if r := a.do(request{Method: http.MethodPatch, Path: "/api/v1/orgs/miso/events/fest", ContentType: ct, Body: body, Token: tok}); r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("100 kB to PATCH: %d", r.Status)
	}
	// A door token may not change pictures; another organisation's event
	// is not found.
	if r := a.putImage(a.token(miso.ID, auth.Door), "fest", "p.png", "image/png", testutil.PNGWithGPS(50, 50, false), alt); r.Status != http.StatusForbidden {
		t.Errorf("door: %d", r.Status)
	}
	faust := a.org("faust")
	if r := a.do(request{Method: http.MethodDelete, Path: "/api/v1/orgs/faust/events/fest/image", Token: a.token(faust.ID, auth.Organiser)}); r.Status != http.StatusNotFound {
		t.Errorf("other org: %d", r.Status)
	}
	if r := a.get("/images/"+strings.Repeat("a", 64)+".jpg", ""); r.Status != http.StatusNotFound {
		t.Errorf("unknown picture: %d", r.Status)
	}
}
