package event

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"runtime"
	"testing"

	"golang.org/x/image/draw"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/testutil"
)

func imageFieldErr(t *testing.T, err error) string {
	t.Helper()
	ae, ok := err.(*apperr.Error)
	if !ok || ae.Code != apperr.Invalid {
		t.Fatalf("want an invalid-input error, got %v", err)
	}
	return ae.Fields["image"].ID
}

// TestPrepareImageRefusesABombBeforeDecoding: a PNG of a few hundred bytes
// declaring 100,000 × 100,000 pixels (40 GB decoded) is refused from its
// header, allocating next to nothing.
func TestPrepareImageRefusesABombBeforeDecoding(t *testing.T) {
	t.Parallel()
	bomb := testutil.PNGBomb(100_000, 100_000)
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(bomb)); err != nil || cfg.Width != 100_000 {
		t.Fatalf("the bomb must be a valid PNG header: %v %+v", err, cfg)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := prepareImage(bomb)
	runtime.ReadMemStats(&after)
	if got := imageFieldErr(t, err); got != "err.image_pixels" {
		t.Fatalf("message %q, want err.image_pixels", got)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", n)
	}
	// Just over the limit is refused too; the limit itself would be taken.
	if got := imageFieldErr(t, func() error { _, err := prepareImage(testutil.PNGBomb(8000, 5001)); return err }()); got != "err.image_pixels" {
		t.Errorf("8000×5001: %q", got)
	}
}

// TestPrepareImageNeverScalesUp: the stored widths are the standard ones
// below the picture's width and the picture's own width, proportions kept.
func TestPrepareImageNeverScalesUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		w, h int
		want []int
	}{
		{300, 200, []int{300}},
		{400, 100, []int{400}},
		// Wide and flat: the widths are what is tested, and the pixels
		// cost seconds of CPU under -race (2400×1200 took 20 s on a busy
		// machine). The heights divide evenly, so the proportion check
		// stays exact.
		{1000, 100, []int{400, 800, 1000}},
		{1700, 170, []int{400, 800, 1600}},
	} {
		files, err := prepareImage(testutil.PNGWithGPS(tc.w, tc.h, false))
		if err != nil {
			t.Fatalf("%dx%d: %v", tc.w, tc.h, err)
		}
		var got []int
		for _, f := range files {
			got = append(got, f.Width)
			cfg, format, err := image.DecodeConfig(bytes.NewReader(f.data))
			if err != nil || format != "jpeg" || cfg.Width != f.Width || cfg.Height != f.Height {
				t.Errorf("%dx%d: copy %d is %s %dx%d (%v)", tc.w, tc.h, f.Width, format, cfg.Width, cfg.Height, err)
			}
			if wantH := tc.h * f.Width / tc.w; f.Height != wantH {
				t.Errorf("%dx%d: copy %d high %d, want %d", tc.w, tc.h, f.Width, f.Height, wantH)
			}
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%dx%d: widths %v, want %v", tc.w, tc.h, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%dx%d: widths %v, want %v", tc.w, tc.h, got, tc.want)
			}
		}
	}
}

// TestPrepareImageKeepsTransparencyAsPNG: a picture with transparent parts
// stays PNG (a JPEG would paint them black); an opaque one becomes JPEG.
func TestPrepareImageKeepsTransparencyAsPNG(t *testing.T) {
	t.Parallel()
	files, err := prepareImage(testutil.PNGWithGPS(500, 50, true))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.ContentType != "image/png" || !bytes.HasPrefix(f.data, []byte("\x89PNG")) {
			t.Errorf("copy %d: %s", f.Width, f.ContentType)
		}
		if bytes.Contains(f.data, []byte(testutil.GPSMarker)) || bytes.Contains(f.data, []byte("eXIf")) || bytes.Contains(f.data, []byte("tEXt")) {
			t.Errorf("copy %d keeps metadata", f.Width)
		}
	}
}

// TestPrepareImageCopiesItsOwnWidthAsCatmullRomWould: the copy at the
// picture's own width is taken without resampling, and stores the very
// bytes that Catmull-Rom at scale 1 gave (JPEG for an opaque picture, PNG
// for one with transparent parts), stripes one pixel wide included.
func TestPrepareImageCopiesItsOwnWidthAsCatmullRomWould(t *testing.T) {
	t.Parallel()
	for _, transparent := range []bool{false, true} {
		const w, h = 360, 90
		src := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				c := color.NRGBA{uint8(x), uint8(y * 2), uint8(x ^ y), 255}
				if x%7 == 0 {
					c = color.NRGBA{255, 255, 255, 255}
				}
				if transparent && y%5 == 0 {
					c.A = uint8(x % 256)
				}
				src.SetNRGBA(x, y, c)
			}
		}
		var upload bytes.Buffer
		if err := png.Encode(&upload, src); err != nil {
			t.Fatal(err)
		}
		files, err := prepareImage(upload.Bytes())
		if err != nil || len(files) != 1 || files[0].Width != w {
			t.Fatalf("transparent=%v: %v %+v", transparent, err, files)
		}
		scaled := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.CatmullRom.Scale(scaled, scaled.Bounds(), src, src.Bounds(), draw.Src, nil)
		var want bytes.Buffer
		if transparent {
			err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&want, scaled)
		} else {
			err = jpeg.Encode(&want, scaled, &jpeg.Options{Quality: 82})
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(files[0].data, want.Bytes()) {
			t.Errorf("transparent=%v: the copy at the picture's own width differs from Catmull-Rom's", transparent)
		}
	}
}
