package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// pgServer is a PostgreSQL server of the test's own, in a fresh temporary
// directory, that the test may stop and start (the shared cluster of
// `make test` must not be restarted under the other tests' feet).
type pgServer struct {
	t        testing.TB
	bin, dir string
	port     int
	asUser   string // run the tools as this user (root cannot run postgres)
}

// startPostgres initialises and starts a server. It skips the test when the
// PostgreSQL server binaries are not installed, and fails it otherwise.
func startPostgres(t testing.TB) *pgServer {
	t.Helper()
	bin := pgBin()
	if bin == "" {
		t.Skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql-15 or set PG_BIN")
	}
	p := &pgServer{t: t, bin: bin}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root; CI runs tests as root.
		if _, err := user.Lookup("postgres"); err != nil {
			t.Skip("running as root and there is no postgres user to run PostgreSQL as")
		}
		p.asUser = "postgres"
	}
	// A short path under /tmp: the unix socket path has a length limit, and
	// the postgres user can traverse /tmp.
	dir, err := os.MkdirTemp("/tmp", "tp-pgfault-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() {
		_ = p.ctl("-m", "immediate", "-w", "-t", "30", "stop")
		os.RemoveAll(dir)
	})
	if p.asUser != "" {
		u, _ := user.Lookup(p.asUser)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := p.cmd(filepath.Join(bin, "initdb"), "-D", p.data(), "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.port = freePort(t)
	p.Start()
	return p
}

func pgBin() string {
	if b := os.Getenv("PG_BIN"); b != "" {
		return b
	}
	if _, err := os.Stat("/usr/lib/postgresql/15/bin/initdb"); err == nil {
		return "/usr/lib/postgresql/15/bin"
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		b := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(b, "initdb")); err == nil {
			return b
		}
	}
	return ""
}

func (p *pgServer) data() string { return filepath.Join(p.dir, "data") }

// URL is the server's postgres database.
func (p *pgServer) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func (p *pgServer) cmd(name string, args ...string) *exec.Cmd {
	var c *exec.Cmd
	if p.asUser != "" {
		c = exec.Command("runuser", append([]string{"-u", p.asUser, "--", name}, args...)...)
	} else {
		c = exec.Command(name, args...)
	}
	c.Dir = "/"
	return c
}

func (p *pgServer) ctl(args ...string) error {
	out, err := p.cmd(filepath.Join(p.bin, "pg_ctl"), append([]string{"-D", p.data()}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// Start starts the server and waits until it accepts connections.
func (p *pgServer) Start() {
	p.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off -c max_connections=100",
		p.port, p.dir)
	if err := p.ctl("-l", filepath.Join(p.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		p.t.Fatalf("%v\nserver log:\n%s", err, log)
	}
}

// Stop stops the server the way an administrator (or a package upgrade)
// does: fast shutdown, which ends every session at once.
func (p *pgServer) Stop() {
	p.t.Helper()
	if err := p.ctl("-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		p.t.Fatal(err)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
