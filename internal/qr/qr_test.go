package qr

import (
	"bytes"
	"image"
	"image/png"
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

func BenchmarkMatrix(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := matrix("https://treffpunkt.example/t/XUOXL7ZWGY3KV6YAY26LTBHJSV"); err != nil {
			b.Fatal(err)
		}
	}
}
