// Package qr draws QR codes: as SVG for pages (sharp at any size, a few
// hundred bytes) and as PNG for emails (many mail clients show no SVG).
package qr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// quiet is the blank margin around the code, in modules, that scanners need.
const quiet = 4

// matrix encodes text; true is a dark module.
func matrix(text string) ([][]bool, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	w := &matrixWriter{}
	if err := q.Save(w); err != nil {
		return nil, fmt.Errorf("draw QR code: %w", err)
	}
	return w.bits, nil
}

type matrixWriter struct{ bits [][]bool }

func (w *matrixWriter) Write(m qrcode.Matrix) error { w.bits = m.Bitmap(); return nil }
func (w *matrixWriter) Close() error                { return nil }

// SVG draws the code as one SVG path.
func SVG(text string) ([]byte, error) {
	bits, err := matrix(text)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	size := len(bits) + 2*quiet
	fmt.Fprintf(&buf, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, size, size)
	fmt.Fprintf(&buf, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, size, size)
	for y, row := range bits {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&buf, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	buf.WriteString(`"/></svg>`)
	return buf.Bytes(), nil
}

// PNG draws the code with scale pixels per module as a black-and-white PNG
// of a few hundred bytes.
func PNG(text string, scale int) ([]byte, error) {
	bits, err := matrix(text)
	if err != nil {
		return nil, err
	}
	size := (len(bits) + 2*quiet) * scale
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for y, row := range bits {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range scale {
				off := img.PixOffset((x+quiet)*scale, (y+quiet)*scale+dy)
				for dx := range scale {
					img.Pix[off+dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := pngEncoder.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode QR PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// pngEncoder reuses its compressor: a new one allocates close to a
// megabyte, which made up most of an encoding's time.
var pngEncoder = png.Encoder{BufferPool: &bufferPool{}}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() *png.EncoderBuffer {
	buf, _ := b.p.Get().(*png.EncoderBuffer)
	return buf
}

func (b *bufferPool) Put(buf *png.EncoderBuffer) { b.p.Put(buf) }
