package web_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"treffpunkt/web"
)

// physical finds CSS that does not mirror for right-to-left pages: left and
// right in properties or values. Logical properties (margin-inline-start,
// inset-inline-end, text-align: start) mirror by themselves.
var physical = regexp.MustCompile(`(?i)(margin|padding|border)-(left|right)\b|(^|[\s;{"])(left|right)\s*:|(text-align|float|clear)\s*:\s*(left|right)\b`)

// Stylesheets and inline styles of the pages use logical properties only, so
// that Arabic and Persian pages mirror.
func TestStylesUseLogicalProperties(t *testing.T) {
	t.Parallel()
	err := fs.WalkDir(web.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".css") || strings.HasSuffix(p, ".html")) {
			return err
		}
		b, err := fs.ReadFile(web.FS, p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := physical.FindString(line); m != "" {
				t.Errorf("%s:%d uses %q; use a logical property", p, i+1, strings.TrimSpace(m))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
