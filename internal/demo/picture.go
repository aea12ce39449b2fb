package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/event"
)

// pictures are the demo's event pictures: a colour per event, drawn at
// seed time (no image files in the repository), with alt text that says
// what they show.
var pictures = map[string]struct {
	from, to color.NRGBA
	alt      event.Texts
}{
	"migrationskonferenz": {color.NRGBA{0x1f, 0x4e, 0x79, 255}, color.NRGBA{0x7f, 0xb3, 0xd5, 255},
		event.Texts{"de": "Blaue Farbfläche mit Streifen, Motiv der Konferenz", "en": "Blue colour field with stripes, the conference's motif"}},
	"internationales-1-mai-fest": {color.NRGBA{0xc0, 0x39, 0x2b, 255}, color.NRGBA{0xf3, 0x9c, 0x12, 255},
		event.Texts{"de": "Rot-orange Farbfläche mit Streifen, Motiv des Festes", "en": "Red and orange colour field with stripes, the festival's motif"}},
	"hirnschmalz-battle": {color.NRGBA{0x4a, 0x23, 0x5a, 255}, color.NRGBA{0xa5, 0x69, 0xbd, 255},
		event.Texts{"de": "Violette Farbfläche mit Streifen, Motiv des Quizabends", "en": "Purple colour field with stripes, the quiz night's motif"}},
}

// drawPicture is a 960×540 diagonal gradient with light stripes.
func drawPicture(from, to color.NRGBA) []byte {
	const w, h = 960, 540
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	mix := func(a, b uint8, t int) uint8 { return uint8((int(a)*(w+h-t) + int(b)*t) / (w + h)) }
	for y := range h {
		for x := range w {
			t := x + y
			c := color.NRGBA{mix(from.R, to.R, t), mix(from.G, to.G, t), mix(from.B, to.B, t), 255}
			if (x+y)/40%4 == 0 {
				c.R, c.G, c.B = c.R/2+127, c.G/2+127, c.B/2+127
			}
			img.SetNRGBA(x, y, c)
		}
	}
	// Uncompressed: the service decodes the upload and stores only its own
	// re-encoded copies, so compressing here changed no stored byte and
	// cost most of the drawing's CPU (seconds under go test -race).
	var b bytes.Buffer
	_ = (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&b, img)
	return b.Bytes()
}

// addPicture gives a demo event its picture, through the same service an
// organiser's upload goes through.
func addPicture(ctx context.Context, s Services, drawn map[string][]byte, orgID int64, slug string) error {
	return addPictureAs(ctx, s, drawn, orgID, slug, slug)
}

// addPictureAs gives the event slug the picture drawn for motif (a
// series' dates share the series' picture, drawn once into drawn).
func addPictureAs(ctx context.Context, s Services, drawn map[string][]byte, orgID int64, slug, motif string) error {
	p, ok := pictures[motif]
	if !ok {
		return nil
	}
	if drawn[motif] == nil {
		drawn[motif] = drawPicture(p.from, p.to)
	}
	if _, err := s.Events.SetImage(ctx, orgID, slug, drawn[motif], p.alt); err != nil {
		return fmt.Errorf("demo picture %s: %w", slug, apperr.From(err))
	}
	return nil
}
