package testutil

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

// GPSMarker is a string that the test pictures carry in their metadata
// (a PNG text chunk, a JPEG comment); it must never come back.
const GPSMarker = "TREFFPUNKT-GPS-52.3759N-9.7320E"

// exifGPS is an EXIF block (big-endian TIFF) whose IFD0 points to a GPS
// IFD with GPSLatitudeRef "N" and GPSLatitude 52° 22' 33": what a phone
// writes into a photo.
func exifGPS() []byte {
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.BigEndian, v) }
	b.WriteString("MM")
	w(uint16(42))
	w(uint32(8)) // IFD0 at 8
	// IFD0: one entry, GPSInfo (0x8825) → GPS IFD at 26.
	w(uint16(1))
	w(uint16(0x8825))
	w(uint16(4)) // LONG
	w(uint32(1))
	w(uint32(26))
	w(uint32(0)) // no next IFD
	// GPS IFD at 26: two entries, rationals at 26+2+2*12+4 = 56.
	w(uint16(2))
	w(uint16(1)) // GPSLatitudeRef
	w(uint16(2)) // ASCII
	w(uint32(2))
	b.WriteString("N\x00\x00\x00")
	w(uint16(2)) // GPSLatitude
	w(uint16(5)) // RATIONAL
	w(uint32(3))
	w(uint32(56))
	w(uint32(0))
	for _, r := range [][2]uint32{{52, 1}, {22, 1}, {33, 1}} {
		w(r[0])
		w(r[1])
	}
	return b.Bytes()
}

// ExifHeader is how the EXIF block of the test pictures begins.
var ExifHeader = []byte("MM\x00\x2a\x00\x00\x00\x08")

func gradient(w, h int, alpha bool) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			a := uint8(255)
			if alpha && x < w/4 {
				a = 0
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / max(w, 1)), uint8(y * 255 / max(h, 1)), 120, a})
		}
	}
	return img
}

func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

// PNGWithGPS is a w×h PNG with an eXIf chunk holding GPS coordinates and a
// tEXt chunk holding GPSMarker, right after its header chunk.
func PNGWithGPS(w, h int, alpha bool) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, gradient(w, h, alpha)); err != nil {
		panic(err)
	}
	raw := b.Bytes()
	// Signature (8) and IHDR (4+4+13+4): the metadata chunks follow.
	at := 8 + 25
	out := append([]byte{}, raw[:at]...)
	out = append(out, pngChunk("eXIf", exifGPS())...)
	out = append(out, pngChunk("tEXt", []byte("Comment\x00"+GPSMarker))...)
	return append(out, raw[at:]...)
}

// JPEGWithGPS is a w×h JPEG with an APP1 EXIF segment holding GPS
// coordinates and a comment holding GPSMarker.
func JPEGWithGPS(w, h int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, gradient(w, h, false), &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	raw := b.Bytes()
	seg := func(marker byte, data []byte) []byte {
		s := []byte{0xFF, marker, 0, 0}
		binary.BigEndian.PutUint16(s[2:], uint16(len(data)+2))
		return append(s, data...)
	}
	out := append([]byte{}, raw[:2]...) // SOI
	out = append(out, seg(0xE1, append([]byte("Exif\x00\x00"), exifGPS()...))...)
	out = append(out, seg(0xFE, []byte(GPSMarker))...)
	return append(out, raw[2:]...)
}

// PNGBomb is a PNG of a few hundred bytes whose header declares w×h
// pixels: decoding it would take w*h*4 bytes.
func PNGBomb(w, h uint32) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		panic(err)
	}
	raw := b.Bytes()
	ihdr := append([]byte{}, raw[16:16+13]...)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	out := append([]byte{}, raw[:8]...)
	out = append(out, pngChunk("IHDR", ihdr)...)
	return append(out, raw[8+25:]...)
}
