package checkin

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg" // camera frames
	_ "image/png"
	"mime"
	"runtime"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/image/draw"

	"treffpunkt/internal/apperr"
)

// Camera frames for browsers without BarcodeDetector (iPhone Safari,
// Firefox): the page sends a few downscaled JPEG frames a second and the
// server finds the QR code in them (docs/checkin.md, "Camera").

// MaxFrameBytes bounds a frame's body; a 640-pixel JPEG is about 30–60 KB.
const MaxFrameBytes = 512 << 10

// maxFramePixels bounds a frame's size before it is decoded, so that a
// small file cannot unpack into a huge bitmap.
const maxFramePixels = 2000 * 2000

// Decoded is what a frame holds: the QR code's text and the ticket code
// read from it as a scan reads it (the bare code from BASE_URL/t/{code}).
type Decoded struct {
	Text string `json:"text"`
	Code string `json:"code"`
}

// decodeSlots bounds the frames decoded at once: decoding is CPU work,
// and a door of many phones must not starve the check-ins.
var decodeSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// DecodeFrame returns the QR code in frame, a JPEG or PNG image
// (contentType) that the caller read with a limit of MaxFrameBytes. A frame
// that is not such an image is unsupported_media_type, a longer one
// too_large, one not readable or without a QR code invalid.
func DecodeFrame(ctx context.Context, contentType string, frame []byte) (*Decoded, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || (mt != "image/jpeg" && mt != "image/png") {
		return nil, apperr.New(apperr.UnsupportedMedia, "checkin.err.image_type")
	}
	if len(frame) > MaxFrameBytes {
		return nil, apperr.New(apperr.TooLarge, "err.too_large")
	}
	b := frame
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || "image/"+format != mt || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxFramePixels {
		return nil, apperr.Field("image", "checkin.err.image")
	}
	select {
	case decodeSlots <- struct{}{}:
		defer func() { <-decodeSlots }()
	case <-ctx.Done():
		return nil, apperr.Wrap(ctx.Err(), "decode frame")
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, apperr.Field("image", "checkin.err.image")
	}
	text, ok := decodeQR(img)
	if !ok {
		return nil, apperr.Field("image", "checkin.err.no_qr")
	}
	return &Decoded{Text: text, Code: ticketCode(text)}, nil
}

// decodeQR finds a QR code anywhere in img (a photo, not a pure barcode),
// trying hard: frames are small and a miss costs the next frame. gozxing's
// finder misjudges the size of some codes at some scales (about 3 in 1,000
// ticket codes, even in a clean image: it reads 23 modules for 33), so a
// miss is tried again at 3/4 and 1/2 of the size, which found every one of
// 4,000 random ticket codes; the retries cost less than the first try.
func decodeQR(img image.Image) (string, bool) {
	if text, ok := decodeOnce(img); ok {
		return text, true
	}
	for _, f := range [...]int{3, 2} { // 3/4, then 2/4
		b := img.Bounds()
		w, h := b.Dx()*f/4, b.Dy()*f/4
		if w < 21 || h < 21 { // smaller than the smallest QR code
			break
		}
		small := image.NewGray(image.Rect(0, 0, w, h))
		draw.ApproxBiLinear.Scale(small, small.Bounds(), img, b, draw.Src, nil)
		if text, ok := decodeOnce(small); ok {
			return text, true
		}
	}
	return "", false
}

func decodeOnce(img image.Image) (string, bool) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", false
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", false
	}
	return res.GetText(), true
}
