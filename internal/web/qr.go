package web

import (
	"bytes"
	"fmt"

	qrcode "github.com/yeqown/go-qrcode/v2"

	"treffpunkt/internal/apperr"
)

// qrSVG encodes text as a QR code and draws it as one SVG path: sharp at any
// size, a few hundred bytes, no image library needed.
func qrSVG(text string) ([]byte, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, apperr.Wrap(err, "encode QR code")
	}
	w := &svgWriter{}
	if err := q.Save(w); err != nil {
		return nil, apperr.Wrap(err, "draw QR code")
	}
	return w.buf.Bytes(), nil
}

type svgWriter struct{ buf bytes.Buffer }

// quiet is the blank margin around the code, in modules, that scanners need.
const quiet = 4

func (w *svgWriter) Write(m qrcode.Matrix) error {
	bits := m.Bitmap()
	size := len(bits) + 2*quiet
	fmt.Fprintf(&w.buf, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, size, size)
	fmt.Fprintf(&w.buf, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, size, size)
	for y, row := range bits {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&w.buf, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	w.buf.WriteString(`"/></svg>`)
	return nil
}

func (w *svgWriter) Close() error { return nil }
