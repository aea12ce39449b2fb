// Package qr draws QR codes: as SVG for pages (sharp at any size, a few
// hundred bytes) and as PNG for emails (many mail clients show no SVG).
//
// Every confirmation mail carries one code per ticket, so drawing one is on
// the path of a rush (issue 22): the matrix comes from piglig/go-qr (a port
// of Nayuki's reference encoder, a few allocations per code) and the PNG is
// written at one bit per pixel straight from the matrix.
package qr

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sync"

	goqr "github.com/piglig/go-qr"
)

// quiet is the blank margin around the code, in modules, that scanners need.
const quiet = 4

// code encodes text at error correction level M.
func code(text string) (*goqr.QrCode, error) {
	q, err := goqr.EncodeText(text, goqr.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return q, nil
}

// SVG draws the code as one SVG path.
func SVG(text string) ([]byte, error) {
	q, err := code(text)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	size := q.Size() + 2*quiet
	fmt.Fprintf(&buf, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, size, size)
	fmt.Fprintf(&buf, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, size, size)
	for y := range q.Size() {
		for x := range q.Size() {
			if q.Module(x, y) {
				fmt.Fprintf(&buf, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	buf.WriteString(`"/></svg>`)
	return buf.Bytes(), nil
}

// PNG draws the code with scale pixels per module as a black-and-white PNG
// of a few hundred bytes: a greyscale image of bit depth 1 (0 black, 1
// white), each row filter-free. image/png reads a paletted image through an
// interface call per pixel, which cost more than the rest of a mail.
func PNG(text string, scale int) ([]byte, error) {
	q, err := code(text)
	if err != nil {
		return nil, err
	}
	modules := q.Size() + 2*quiet
	size := modules * scale
	stride := (size + 7) / 8

	raw := make([]byte, 0, (1+stride)*size)
	row := make([]byte, stride)
	for y := range modules {
		for i := range row {
			row[i] = 0xff
		}
		my := y - quiet
		for x := range modules {
			mx := x - quiet
			if my < 0 || mx < 0 || my >= q.Size() || mx >= q.Size() || !q.Module(mx, my) {
				continue
			}
			for px := x * scale; px < (x+1)*scale; px++ {
				row[px/8] &^= 0x80 >> (px % 8)
			}
		}
		for range scale {
			raw = append(raw, 0) // filter type None
			raw = append(raw, row...)
		}
	}

	out := bytes.NewBuffer(make([]byte, 0, 1024))
	out.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(size))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(size))
	ihdr[8], ihdr[9] = 1, 0 // bit depth 1, greyscale; compression, filter, interlace 0
	chunk(out, "IHDR", ihdr[:])
	z := zlibWriters.Get().(*zlibWriter)
	defer zlibWriters.Put(z)
	z.buf.Reset()
	z.w.Reset(&z.buf)
	if _, err := z.w.Write(raw); err != nil {
		return nil, fmt.Errorf("compress QR PNG: %w", err)
	}
	if err := z.w.Close(); err != nil {
		return nil, fmt.Errorf("compress QR PNG: %w", err)
	}
	chunk(out, "IDAT", z.buf.Bytes())
	chunk(out, "IEND", nil)
	return out.Bytes(), nil
}

// chunk writes one PNG chunk: length, type, data, CRC of type and data.
func chunk(out *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	out.WriteString(typ)
	out.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	out.Write(n[:])
}

// zlibWriters reuse their compressors: a new one allocates about a
// megabyte, which would be most of a code's cost. BestSpeed: the rows repeat
// scale times, which the fastest level finds as well (about 600 bytes).
type zlibWriter struct {
	buf bytes.Buffer
	w   *zlib.Writer
}

var zlibWriters = sync.Pool{New: func() any {
	z := &zlibWriter{}
	z.w, _ = zlib.NewWriterLevel(&z.buf, zlib.BestSpeed)
	return z
}}
