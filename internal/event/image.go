package event

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"slices"

	"github.com/jmoiron/sqlx"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers WebP with image.Decode

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/database"
	"treffpunkt/internal/text"
)

// Limits of an uploaded picture (issue 20). MaxImagePixels bounds the
// memory a decode may take (4 bytes a pixel: 160 MB); it is checked on the
// declared size before a single pixel is decoded, so a small file that
// declares a huge picture (a decompression bomb) costs nothing.
const (
	MaxImageBytes  = 10 << 20
	MaxImagePixels = 40_000_000
	maxAltLen      = 300
)

// ImageWidths are the widths stored of a picture, never more than its own
// width: small for lists, medium for pages, large for sharp screens and
// link previews.
var ImageWidths = []int{400, 800, 1600}

// imageFormats are what image.DecodeConfig may call an upload; GIF and the
// rest are refused even if some package registers a decoder for them.
var imageFormats = []string{"jpeg", "png", "webp"}

// Image is an event's picture: alt text per language and the stored copies,
// narrowest first.
type Image struct {
	Alt   Texts       `json:"alt"`
	Files []ImageFile `json:"files"`
}

// ImageFile is one stored copy of a picture, found by the hash of its bytes.
type ImageFile struct {
	Hash        string `json:"hash"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	ContentType string `json:"content_type"`
}

// Name is the file name the copy is served under: the hash and an
// extension, so that what is served under a name never changes.
func (f ImageFile) Name() string {
	if f.ContentType == "image/png" {
		return f.Hash + ".png"
	}
	return f.Hash + ".jpg"
}

// Largest is the widest stored copy (for link previews).
func (i *Image) Largest() ImageFile { return i.Files[len(i.Files)-1] }

// Medium is the copy closest to 800 wide (the src of an <img> whose
// srcset lets the browser choose).
func (i *Image) Medium() ImageFile {
	for _, f := range i.Files {
		if f.Width >= 800 {
			return f
		}
	}
	return i.Largest()
}

// AltIn is the alt text in lang, else in def.
func (i *Image) AltIn(lang, def string) string {
	s, _ := i.Alt.In(lang, def)
	return s
}

// Value implements driver.Valuer (never written through it; for symmetry
// with Scan, so that the type round-trips in tests).
func (i *Image) Value() (driver.Value, error) { return json.Marshal(i) }

// Scan implements sql.Scanner: the imageColumn below, NULL without a picture.
func (i *Image) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		if s, isStr := src.(string); isStr {
			b = []byte(s)
		} else {
			return errors.New("image: unsupported type")
		}
	}
	return json.Unmarshal(b, i)
}

// imageColumn is the event's picture as one jsonb value (NULL without one),
// so that lists load their pictures in the same query.
const imageColumn = `(SELECT jsonb_build_object('alt', ei.alt, 'files',
        (SELECT jsonb_agg(jsonb_build_object('hash', f.hash, 'width', f.width, 'height', f.height, 'content_type', f.content_type) ORDER BY f.width)
         FROM event_image_files f WHERE f.event_id = ei.event_id))
    FROM event_images ei WHERE ei.event_id = e.id) AS image`

// encodedImage is one re-encoded copy, ready to store.
type encodedImage struct {
	ImageFile
	data []byte
}

// prepareImage decodes an upload and makes the stored copies. It refuses
// (422, field "image") anything that is not a JPEG, PNG or WebP by its
// content, whatever it is called, and pictures above the limits. The copies
// are encoded from pixels alone, so no metadata of the upload survives; a
// JPEG is first turned upright as its EXIF orientation says (orientation.go).
func prepareImage(data []byte) ([]encodedImage, error) {
	if len(data) == 0 {
		return nil, apperr.Field("image", "err.required")
	}
	if len(data) > MaxImageBytes {
		return nil, apperr.Field("image", "err.image_size", "Max", MaxImageBytes>>20)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || !slices.Contains(imageFormats, format) {
		return nil, apperr.Field("image", "err.image_type")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, apperr.Field("image", "err.image_pixels", "Max", MaxImagePixels/1_000_000)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, apperr.Field("image", "err.image_type")
	}
	if format == "jpeg" {
		// Upright before the metadata that says how is dropped.
		src = orient(src, jpegOrientation(data))
	}
	b := src.Bounds()
	opaque := isOpaque(src)
	var out []encodedImage
	// Widest first, each copy scaled from the one before: scaling a large
	// picture once to 1600 and then halving is far cheaper than scaling
	// the original three times.
	prev := src
	for _, w := range slices.Backward(widthsFor(b.Dx())) {
		h := max(1, int(int64(b.Dy())*int64(w)/int64(b.Dx())))
		if prev.Bounds().Dx() > 2*w {
			// Catmull-Rom's kernel grows with the factor: from 40
			// megapixels it would take seconds. A cheap step down to twice
			// the width first, then the sharp one, looks the same.
			mid := image.NewRGBA(image.Rect(0, 0, 2*w, 2*h))
			draw.ApproxBiLinear.Scale(mid, mid.Bounds(), prev, prev.Bounds(), draw.Src, nil)
			prev = mid
		}
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		if pb := prev.Bounds(); pb.Dx() == w && pb.Dy() == h {
			// The picture's own width (narrower than the next standard
			// one): Catmull-Rom at scale 1 gives back every pixel, after
			// the dearest pass of the loop; a copy gives the same.
			draw.Draw(dst, dst.Bounds(), prev, pb.Min, draw.Src)
		} else {
			draw.CatmullRom.Scale(dst, dst.Bounds(), prev, prev.Bounds(), draw.Src, nil)
		}
		prev = dst
		var buf bytes.Buffer
		f := ImageFile{Width: w, Height: h, ContentType: "image/jpeg"}
		if opaque {
			err = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 82})
		} else {
			f.ContentType = "image/png"
			err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, dst)
		}
		if err != nil {
			return nil, fmt.Errorf("encode picture: %w", err)
		}
		sum := sha256.Sum256(buf.Bytes())
		f.Hash = hex.EncodeToString(sum[:])
		out = append(out, encodedImage{ImageFile: f, data: buf.Bytes()})
	}
	slices.Reverse(out)
	return out, nil
}

// widthsFor is the widths stored of a picture w pixels wide: the standard
// widths below w, and w itself in their stead when it is narrower than the
// next one, so nothing is ever scaled up.
func widthsFor(w int) []int {
	var out []int
	for _, sw := range ImageWidths {
		if sw >= w {
			return append(out, w)
		}
		out = append(out, sw)
	}
	return out
}

func isOpaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

func checkAlt(alt Texts, defaultLang string) error {
	f := apperr.Fields{}
	for lang, s := range alt {
		if !slices.Contains(config.Languages, lang) {
			f.Add("alt_"+lang, "err.lang")
			continue
		}
		if p := text.Problem(s, maxAltLen); p != "" {
			f.Add("alt_"+lang, p, "Max", maxAltLen)
		}
	}
	if alt[defaultLang] == "" {
		f.Add("alt_"+defaultLang, "err.image_alt_required")
	}
	return f.Err()
}

// SetImage replaces the picture of an event of orgID. alt is trimmed; the
// text in the event's default language is required.
func (s *Service) SetImage(ctx context.Context, orgID int64, slug string, data []byte, alt Texts) (*Event, error) {
	e, err := s.GetForOrg(ctx, orgID, slug)
	if err != nil {
		return nil, err
	}
	alt = trimTexts(alt)
	for lang, v := range alt {
		if v == "" {
			delete(alt, lang)
		}
	}
	if err := checkAlt(alt, e.DefaultLang); err != nil {
		return nil, err
	}
	files, err := prepareImage(data)
	if err != nil {
		return nil, apperr.Wrap(err, "prepare picture")
	}
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_images WHERE event_id = $1`, e.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_images (event_id, alt) VALUES ($1, $2)`, e.ID, alt); err != nil {
			return err
		}
		for _, f := range files {
			_, err := tx.ExecContext(ctx, `
INSERT INTO event_image_files (event_id, width, height, content_type, hash, data)
VALUES ($1, $2, $3, $4, $5, $6)`, e.ID, f.Width, f.Height, f.ContentType, f.Hash, f.data)
			if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE events SET updated_at = now() WHERE id = $1`, e.ID)
		return err
	})
	if err != nil {
		return nil, apperr.Wrap(err, "save picture")
	}
	return s.getByID(ctx, e.ID)
}

// DeleteImage removes the picture of an event of orgID; an event without
// one answers the same.
func (s *Service) DeleteImage(ctx context.Context, orgID int64, slug string) (*Event, error) {
	e, err := s.GetForOrg(ctx, orgID, slug)
	if err != nil {
		return nil, err
	}
	err = database.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM event_images WHERE event_id = $1`, e.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			_, err = tx.ExecContext(ctx, `UPDATE events SET updated_at = now() WHERE id = $1`, e.ID)
		}
		return err
	})
	if err != nil {
		return nil, apperr.Wrap(err, "delete picture")
	}
	return s.getByID(ctx, e.ID)
}

// ImageData is a stored copy by its hash, for everyone: pictures of drafts
// are served too, since their hashes are published nowhere but to staff.
func (s *Service) ImageData(ctx context.Context, hash string) ([]byte, string, error) {
	var row struct {
		Data        []byte `db:"data"`
		ContentType string `db:"content_type"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT data, content_type FROM event_image_files WHERE hash = $1 LIMIT 1`, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", apperr.New(apperr.NotFound, "err.page_not_found")
	}
	if err != nil {
		return nil, "", apperr.Wrap(err, "load picture")
	}
	return row.Data, row.ContentType, nil
}
