package qr

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// The PNG must decode, with a real decoder, to the text it carries.
func TestPNGDecodesToItsText(t *testing.T) {
	t.Parallel()
	want := "https://treffpunkt.example/t/XUOXL7ZWGY3KV6YAY26LTBHJSV"
	b, err := PNG(want, 6)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() < 200 || len(b) > 2000 {
		t.Errorf("PNG is %dpx wide and %d bytes; want a small, scannable image", img.Bounds().Dx(), len(b))
	}
	if got := decode(t, img); got != want {
		t.Fatalf("decoded %q, want %q", got, want)
	}
}

// The hand-written PNG must carry exactly the pixels of the code: every
// pixel of the decoded image (image/png is the reference reader) is black
// where the module is dark, white elsewhere, for several texts and scales
// (the row width is not always a multiple of 8).
func TestPNGPixelsAreTheModules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text  string
		scale int
	}{{"a", 1}, {"https://treffpunkt.example/t/XUOXL7ZWGY3KV6YAY26LTBHJSV", 6}, {"Kurdî مرحبا Привет", 3}, {"https://treffpunkt.example/t/" + strings.Repeat("X", 200), 5}} {
		b, err := PNG(tc.text, tc.scale)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		q, err := code(tc.text)
		if err != nil {
			t.Fatal(err)
		}
		size := (q.Size() + 2*quiet) * tc.scale
		if img.Bounds().Dx() != size || img.Bounds().Dy() != size {
			t.Fatalf("%q: %v, want %dx%d", tc.text, img.Bounds(), size, size)
		}
		for y := range size {
			for x := range size {
				mx, my := x/tc.scale-quiet, y/tc.scale-quiet
				dark := mx >= 0 && my >= 0 && mx < q.Size() && my < q.Size() && q.Module(mx, my)
				r, _, _, _ := img.At(x, y).RGBA()
				if (r == 0) != dark {
					t.Fatalf("%q scale %d: pixel (%d,%d) dark=%v, want %v", tc.text, tc.scale, x, y, r == 0, dark)
				}
			}
		}
		if got := decode(t, img); got != tc.text {
			t.Errorf("decoded %q, want %q", got, tc.text)
		}
	}
}

func decode(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return res.GetText()
}

func BenchmarkPNG(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := PNG("https://treffpunkt.example/t/XUOXL7ZWGY3KV6YAY26LTBHJSV", 6); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCode(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := code("https://treffpunkt.example/t/XUOXL7ZWGY3KV6YAY26LTBHJSV"); err != nil {
			b.Fatal(err)
		}
	}
}
