package event

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"

	"golang.org/x/image/draw"
)

// A phone stores a photo as its sensor saw it and writes in EXIF how to
// turn it to show it upright (the Orientation tag, 0x0112). The stored
// copies keep no metadata, so the turn is applied to the pixels before the
// tag is dropped; otherwise a portrait photo would lie on its side.
//
// Only that one tag is read, by hand: the EXIF modules of the project's
// list read every tag of every IFD, which is far more code to trust with
// an upload than the few bounded reads below.

// jpegOrientation is the EXIF orientation (1–8) of a JPEG, 1 when it has
// none or the EXIF cannot be read. It reads only within data, so
// truncated or hostile bytes give 1, never a panic.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	p := 2
	// Metadata segments come before the first scan; a picture with more
	// than a few dozen of them is not a photo from a phone.
	for range 64 {
		if p+4 > len(data) || data[p] != 0xFF {
			return 1
		}
		marker := data[p+1]
		if marker == 0xFF { // fill byte
			p++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return 1
		}
		seg := data[p+4 : p+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		p += 2 + n
	}
	return 1
}

// tiffOrientation reads the Orientation tag of IFD0 of a TIFF structure
// (the body of an EXIF segment).
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := bo.Uint32(t[4:])
	if ifd < 8 || uint64(ifd)+2 > uint64(len(t)) {
		return 1
	}
	count := int(bo.Uint16(t[ifd:]))
	for i := range count {
		at := int(ifd) + 2 + 12*i
		if at+12 > len(t) {
			return 1
		}
		e := t[at : at+12]
		if bo.Uint16(e) != 0x0112 {
			continue
		}
		// SHORT, one value, held in the first two bytes of the value field.
		if bo.Uint16(e[2:]) != 3 || bo.Uint32(e[4:]) != 1 {
			return 1
		}
		if o := int(bo.Uint16(e[8:])); o >= 1 && o <= 8 {
			return o
		}
		return 1
	}
	return 1
}

// orient turns src as EXIF orientation o says; orientations 5 to 8 swap
// width and height. 1 and unknown values leave src as it is.
func orient(src image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return src
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	// to is where the pixel at (x, y) of the stored picture goes.
	to := map[int]func(x, y int) (int, int){
		2: func(x, y int) (int, int) { return w - 1 - x, y },
		3: func(x, y int) (int, int) { return w - 1 - x, h - 1 - y },
		4: func(x, y int) (int, int) { return x, h - 1 - y },
		5: func(x, y int) (int, int) { return y, x },
		6: func(x, y int) (int, int) { return h - 1 - y, x },
		7: func(x, y int) (int, int) { return h - 1 - y, w - 1 - x },
		8: func(x, y int) (int, int) { return y, w - 1 - x },
	}[o]
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	set := func(dx, dy int, r, g, bl, a uint8) {
		i := dst.PixOffset(dx, dy)
		dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = r, g, bl, a
	}
	if yc, ok := src.(*image.YCbCr); ok {
		// What a JPEG decodes to: read the planes directly rather than
		// through At, which allocates a colour per pixel.
		for y := range h {
			for x := range w {
				yi, ci := yc.YOffset(b.Min.X+x, b.Min.Y+y), yc.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(yc.Y[yi], yc.Cb[ci], yc.Cr[ci])
				dx, dy := to(x, y)
				set(dx, dy, r, g, bl, 0xFF)
			}
		}
		return dst
	}
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(rgba, rgba.Bounds(), src, b.Min, draw.Src)
	for y := range h {
		for x := range w {
			i := rgba.PixOffset(x, y)
			dx, dy := to(x, y)
			set(dx, dy, rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2], rgba.Pix[i+3])
		}
	}
	return dst
}
