package web

import (
	"image"
	"image/color"
	"regexp"
	"strconv"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

var svgModule = regexp.MustCompile(`M(\d+) (\d+)h1v1h-1z`)
var svgBox = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)

// The SVG drawn from the QR matrix must decode, with a real decoder, to the
// ticket URL: a transposed or mirrored drawing would not.
func TestQRSVGDecodesToTicketURL(t *testing.T) {
	t.Parallel()
	want := "https://treffpunkt.example/t/XUOXL7ZWGY3KV6YAY26LTBHJSV"
	svg, err := qrSVG(want)
	if err != nil {
		t.Fatal(err)
	}
	box := svgBox.FindSubmatch(svg)
	if box == nil {
		t.Fatalf("no viewBox in %s", svg)
	}
	size, _ := strconv.Atoi(string(box[1]))
	const scale = 6
	img := image.NewGray(image.Rect(0, 0, size*scale, size*scale))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for _, m := range svgModule.FindAllSubmatch(svg, -1) {
		x, _ := strconv.Atoi(string(m[1]))
		y, _ := strconv.Atoi(string(m[2]))
		for dy := range scale {
			for dx := range scale {
				img.Set(x*scale+dx, y*scale+dy, color.Black)
			}
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if res.GetText() != want {
		t.Fatalf("decoded %q, want %q", res.GetText(), want)
	}
}
