package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "treffpunkt/"

// rooms puts every package of the module in a room (docs/architecture.md).
// A new package must be placed here, or the test fails.
var rooms = map[string]string{
	"cmd/treffpunkt": wiring,
	"internal/app":   wiring,
	"cmd/doorload":   tool,
	"cmd/loadgen":    tool,
	"cmd/smtpsink":   tool,

	"internal/web":      face,
	"internal/api":      face,
	"internal/httpcode": faceKit,

	"internal/event":        domain,
	"internal/registration": domain,
	"internal/checkin":      domain,
	"internal/member":       domain,
	"internal/calendar":     domain,
	"internal/auth":         domain,
	"internal/mail":         domain,
	"internal/org":          domain,
	"internal/audit":        domain,
	"internal/message":      domain,
	"internal/notify":       domain,
	"internal/demo":         seed,

	"internal/database": infra,
	"internal/cache":    infra,
	"internal/metrics":  infra,
	"internal/secret":   infra,

	"internal/apperr":    support,
	"internal/config":    support,
	"internal/text":      support,
	"internal/i18n":      support,
	"internal/qr":        support,
	"internal/ratelimit": support,

	// The group-commit engine: queues and batches, no SQL, no HTTP.
	"internal/groupcommit": support,

	"web":           asset,
	"mailtemplates": asset,
	"migrations":    asset,

	"internal/testapp":       testing_,
	"internal/testdb":        testing_,
	"internal/mail/mailtest": testing_,
	"internal/archtest":      testing_,
	"internal/testutil":      testing_,
	"deploy":                 testing_,
}

const (
	wiring   = "wiring"
	tool     = "tool"
	face     = "face"
	faceKit  = "face kit"
	domain   = "domain"
	seed     = "seed"
	infra    = "infra"
	support  = "support"
	asset    = "asset"
	testing_ = "testing"
)

// doors are the rooms a room may import, the reason in docs/architecture.md.
var doors = map[string][]string{
	wiring:   {wiring, face, faceKit, domain, seed, infra, support, asset},
	tool:     {},
	face:     {faceKit, domain, support, infra, asset},
	faceKit:  {support, infra},
	domain:   {domain, infra, support, asset},
	seed:     {domain, support},
	infra:    {infra, support, asset},
	support:  {support},
	asset:    {},
	testing_: {wiring, face, faceKit, domain, seed, infra, support, asset, testing_},
}

// closed are single packages a room may not import although their room is
// open to it: the faces and their kit reach PostgreSQL only through
// services (the kit takes the metrics' counters from infra), and only
// the web face and the wiring read the web/ files (templates, catalogues);
// only mail reads its templates, only the database its migrations.
var closed = map[string][]string{
	face:    {"internal/database", "migrations", "mailtemplates"},
	faceKit: {"internal/database"},
	domain:  {"web", "migrations"},
	infra:   {"web", "mailtemplates"},
}

// assetsOf lists who may import each asset package.
var assetsOf = map[string][]string{
	"web":           {"internal/app", "internal/web"},
	"mailtemplates": {"internal/mail"},
	"migrations":    {"internal/database", "internal/testdb"},
}

// outside are packages from outside the module that mark a layer: HTTP
// frameworks belong to the faces, SQL to the domain and infrastructure.
var outside = map[string][]string{
	face:    {"database/sql", "github.com/jmoiron/sqlx", "github.com/lib/pq", "github.com/pressly/goose/v3"},
	domain:  {"net/http", "github.com/gin-gonic/gin", "github.com/alexedwards/scs/v2", "github.com/justinas/nosurf"},
	seed:    {"net/http", "github.com/gin-gonic/gin", "database/sql", "github.com/jmoiron/sqlx"},
	support: {"net/http", "github.com/gin-gonic/gin", "database/sql", "github.com/jmoiron/sqlx", "github.com/lib/pq"},
}

// exceptions are doors that are wrong today and known: each names why it
// is still open and what closes it. The test fails when an exception is no
// longer used, so that this list only shrinks. Issue 17 closed the last two
// (web → api, web → database): it is empty, and should stay so.
var exceptions = map[[2]string]string{}

type pkg struct {
	ImportPath string
	Imports    []string
}

func TestImportsFollowThePackageMap(t *testing.T) {
	t.Parallel()
	pkgs := listPackages(t)
	used := map[[2]string]bool{}
	for _, p := range pkgs {
		from := strings.TrimPrefix(p.ImportPath, module)
		room, ok := rooms[from]
		if !ok {
			t.Errorf("%s is in no room: add it to rooms and to docs/architecture.md", from)
			continue
		}
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				for _, bad := range outside[room] {
					if imp == bad || strings.HasPrefix(imp, bad+"/") {
						t.Errorf("%s (%s) imports %s, which belongs to another layer", from, room, imp)
					}
				}
				continue
			}
			to := strings.TrimPrefix(imp, module)
			if why, ok := exceptions[[2]string{from, to}]; ok {
				used[[2]string{from, to}] = true
				t.Logf("known exception: %s imports %s: %s", from, to, why)
				continue
			}
			toRoom, ok := rooms[to]
			if !ok {
				continue // reported as a package without a room
			}
			switch {
			case !slices.Contains(doors[room], toRoom):
				t.Errorf("%s (%s) imports %s (%s): no door from %s to %s", from, room, to, toRoom, room, toRoom)
			case slices.Contains(closed[room], to):
				t.Errorf("%s (%s) imports %s, which is closed to the %s room", from, room, to, room)
			case toRoom == asset && room != testing_ && !slices.Contains(assetsOf[to], from):
				t.Errorf("%s imports the files of %s, which only %v read", from, to, assetsOf[to])
			case room == face && toRoom == face:
				t.Errorf("%s imports %s: the faces stand side by side", from, to)
			}
		}
	}
	for e, why := range exceptions {
		if !used[e] {
			t.Errorf("the exception %s → %s (%s) is no longer needed: remove it from exceptions and docs/architecture.md", e[0], e[1], why)
		}
	}
}

// listPackages is `go list -json ./...` at the module's root: every
// package's direct imports, tests not included (a test may cross a door to
// set up its world).
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < len(rooms)/2 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	return pkgs
}
