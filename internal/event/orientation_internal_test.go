package event

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"testing"
)

// TestPhotoWithOrientation6IsStoredUpright: a JPEG as a phone stores it
// (60×40, EXIF Orientation 6, made by python3-pil: testdata/make_oriented.py)
// is stored 40×60, turned a quarter clockwise: the red top left quarter of
// the sensor's picture is at the top right, the green top right quarter at
// the bottom right, the blue bottom half on the left. A flip instead of a
// turn, or the wrong direction, puts a colour elsewhere.
func TestPhotoWithOrientation6IsStoredUpright(t *testing.T) {
	data, err := os.ReadFile("testdata/oriented6.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if o := jpegOrientation(data); o != 6 {
		t.Fatalf("orientation read %d, want 6", o)
	}
	files, err := prepareImage(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Width != 40 || files[0].Height != 60 {
		t.Fatalf("stored %+v, want one copy 40×60", files)
	}
	img, err := jpeg.Decode(bytes.NewReader(files[0].data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 40 || b.Dy() != 60 {
		t.Fatalf("stored pixels %v", b)
	}
	for _, p := range []struct {
		name string
		x, y int
		want color.RGBA
	}{
		{"top right", 30, 12, color.RGBA{255, 0, 0, 255}},
		{"bottom right", 30, 48, color.RGBA{0, 255, 0, 255}},
		{"top left", 8, 12, color.RGBA{0, 0, 255, 255}},
		{"bottom left", 8, 48, color.RGBA{0, 0, 255, 255}},
	} {
		if got := color.RGBAModel.Convert(img.At(p.x, p.y)).(color.RGBA); !near(got, p.want) {
			t.Errorf("%s (%d,%d) is %v, want about %v", p.name, p.x, p.y, got, p.want)
		}
	}
	if bytes.Contains(files[0].data, []byte("Exif")) || bytes.Contains(files[0].data, []byte("Treffpunkt test phone")) {
		t.Error("the stored copy keeps the EXIF")
	}
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.R, b.R) < 40 && d(a.G, b.G) < 40 && d(a.B, b.B) < 40
}

// TestEveryOrientationTurnsTheCornersAsEXIFSays: each of the eight
// orientations moves the stored picture's top left pixel to where EXIF
// says the picture's first row and column belong.
func TestEveryOrientationTurnsTheCornersAsEXIFSays(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	mark := color.RGBA{200, 10, 10, 255}
	src.Set(0, 0, mark)
	for o, want := range map[int]struct{ w, h, x, y int }{
		1: {3, 2, 0, 0}, 2: {3, 2, 2, 0}, 3: {3, 2, 2, 1}, 4: {3, 2, 0, 1},
		5: {2, 3, 0, 0}, 6: {2, 3, 1, 0}, 7: {2, 3, 1, 2}, 8: {2, 3, 0, 2},
	} {
		got := orient(src, o)
		if b := got.Bounds(); b.Dx() != want.w || b.Dy() != want.h {
			t.Errorf("orientation %d: %v, want %d×%d", o, b, want.w, want.h)
			continue
		}
		if c := color.RGBAModel.Convert(got.At(want.x, want.y)); c != mark {
			t.Errorf("orientation %d: the first pixel is not at (%d,%d)", o, want.x, want.y)
		}
	}
}

// exifJPEG is the start of a JPEG with one EXIF segment holding tiff.
func exifJPEG(tiff []byte) []byte {
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := []byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(out[4:], uint16(len(seg)+2))
	return append(append(out, seg...), 0xFF, 0xD9)
}

// littleEndianTIFF is an IFD0 with one entry: tag, type, count, value.
func littleEndianTIFF(tag, typ uint16, count uint32, value uint16) []byte {
	b := []byte("II\x2a\x00\x08\x00\x00\x00\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, tag)
	b = binary.LittleEndian.AppendUint16(b, typ)
	b = binary.LittleEndian.AppendUint32(b, count)
	b = binary.LittleEndian.AppendUint16(b, value)
	return append(b, 0, 0, 0, 0, 0, 0)
}

// TestOrientationReaderNeverPanicsOnBadEXIF: the reader takes the little
// endian form too, and gives 1 (leave as is) for every EXIF that is
// truncated, lies about its lengths or offsets, or is noise, without
// reading outside the upload.
func TestOrientationReaderNeverPanicsOnBadEXIF(t *testing.T) {
	good := exifJPEG(littleEndianTIFF(0x0112, 3, 1, 8))
	if o := jpegOrientation(good); o != 8 {
		t.Fatalf("little endian: %d, want 8", o)
	}
	for name, data := range map[string][]byte{
		"value out of range": exifJPEG(littleEndianTIFF(0x0112, 3, 1, 9)),
		"not a SHORT":        exifJPEG(littleEndianTIFF(0x0112, 4, 1, 6)),
		"two values":         exifJPEG(littleEndianTIFF(0x0112, 3, 2, 6)),
		"other tag":          exifJPEG(littleEndianTIFF(0x010F, 3, 1, 6)),
		"IFD offset far off": exifJPEG([]byte("MM\x00\x2a\xff\xff\xff\xf0")),
		"IFD count too big":  exifJPEG([]byte("MM\x00\x2a\x00\x00\x00\x08\xff\xff\x01\x12")),
		"no TIFF magic":      exifJPEG([]byte("MM\x00\x2b\x00\x00\x00\x08\x00\x00")),
		"segment too long":   {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x'},
		"segment length 0":   {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x00},
		"only fill bytes":    append([]byte{0xFF, 0xD8}, bytes.Repeat([]byte{0xFF}, 1000)...),
		"not a JPEG":         []byte("GIF89a"),
		"empty":              nil,
	} {
		if o := jpegOrientation(data); o != 1 {
			t.Errorf("%s: %d, want 1", name, o)
		}
	}
	// Every truncation of a good file and of the phone's, and noise
	// written over them: 1 or the right value, never a panic.
	phone, err := os.ReadFile("testdata/oriented6.jpg")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(20, 6))
	for _, f := range [][]byte{good, phone} {
		for n := range len(f) {
			jpegOrientation(f[:n])
		}
		for range 5000 {
			b := bytes.Clone(f)
			for range 1 + rng.IntN(8) {
				b[rng.IntN(min(len(b), 120))] = byte(rng.Uint32())
			}
			if o := jpegOrientation(b[:rng.IntN(len(b)+1)]); o < 1 || o > 8 {
				t.Fatalf("orientation %d out of range", o)
			}
		}
	}
}

// FuzzJPEGOrientation: no input makes the reader panic or answer outside
// 1–8.
func FuzzJPEGOrientation(f *testing.F) {
	f.Add(exifJPEG(littleEndianTIFF(0x0112, 3, 1, 6)))
	if b, err := os.ReadFile("testdata/oriented6.jpg"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := jpegOrientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
