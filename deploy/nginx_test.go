// Package deploy holds the reference deployment files; its test checks the
// nginx configuration with a real nginx when one is installed.
package deploy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The reference nginx configuration passes `nginx -t`, logs no secret of a
// URL (manage links, tickets, confirmation, feeds, password and invitation
// links, the API's manage-token route, query strings), forwards the paths
// unchanged, and serves /metrics only to loopback clients. Skipped when
// nginx is not installed.
func TestNginxConfigMasksSecretsInAccessLog(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed")
	}
	dir := t.TempDir()
	writeCert(t, dir)

	var mu sync.Mutex
	var seen []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RequestURI())
		mu.Unlock()
		fmt.Fprintln(w, "ok")
	}))
	defer upstream.Close()

	httpsPort, httpPort := freePort(t), freePort(t)
	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	site := string(conf)
	for _, r := range []struct{ old, new string }{
		{"server 127.0.0.1:8080 max_fails=3 fail_timeout=10s;", "server " + strings.TrimPrefix(upstream.URL, "http://") + ";"},
		{"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", httpPort)},
		{"listen [::]:80;", ""},
		{"listen 443 ssl http2;", fmt.Sprintf("listen 127.0.0.1:%d ssl http2;", httpsPort)},
		{"listen [::]:443 ssl http2;", ""},
		{"/etc/ssl/treffpunkt/", dir + "/"},
	} {
		if !strings.Contains(site, r.old) {
			t.Fatalf("nginx.conf no longer contains %q: update this test", r.old)
		}
		site = strings.ReplaceAll(site, r.old, r.new)
	}
	site = strings.ReplaceAll(site, "/var/log/nginx/treffpunkt.access.log", filepath.Join(dir, "access.log"))
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	// A main configuration as a distribution ships it, with the default
	// access log that the site must override.
	main := fmt.Sprintf(`daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
    access_log %[1]s/default-access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-p", dir, "-c", filepath.Join(dir, "nginx.conf")}
	if out, err := exec.Command(bin, append([]string{"-t"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	// Stopped as its service manager stops it: SIGQUIT, and the master
	// lets its workers finish and exit. exec's default, SIGKILL to the
	// master, left the workers running, listening, after every run.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			cancel()
			_ = cmd.Wait()
		})
	}
	defer stop()
	base := fmt.Sprintf("https://127.0.0.1:%d", httpsPort)
	waitFor(t, base, &stderr)

	const secret = "SECRETSECRETSECRET"
	paths := []string{
		"/r/" + secret, "/r/" + secret + "/cancel", "/t/" + secret, "/t/" + secret + "/qr.svg",
		"/confirm/" + secret, "/feeds/" + secret + ".ics?lang=de", "/login/reset/" + secret,
		"/api/v1/registrations/" + secret + "/cancel", "/checkin/events/fest/search?q=" + secret,
		"/%72/" + secret, "/events/fest?x=" + secret,
	}
	for _, p := range paths {
		if code := get(t, client("127.0.0.1"), base+p, "https://elsewhere.example/r/"+secret); code != http.StatusOK {
			t.Errorf("GET %s through nginx: %d", p, code)
		}
	}
	if code := get(t, client("127.0.0.1"), fmt.Sprintf("http://127.0.0.1:%d/r/%s", httpPort, secret), ""); code != http.StatusMovedPermanently {
		t.Errorf("plain http: %d, want 301", code)
	}
	if code := get(t, client("127.0.0.1"), base+"/metrics", ""); code != http.StatusOK {
		t.Errorf("/metrics from loopback: %d, want 200", code)
	}
	if code := get(t, client("127.0.0.2"), base+"/metrics", ""); code != http.StatusForbidden {
		t.Errorf("/metrics from another address: %d, want 403", code)
	}
	mu.Lock()
	if !strings.Contains(strings.Join(seen, " "), "/r/"+secret+"/cancel") {
		t.Errorf("the app did not get the path unchanged: %v", seen)
	}
	mu.Unlock()

	// Stopped, nginx has written every log line, and nothing of it is
	// left listening.
	stop()
	for _, port := range []int{httpsPort, httpPort} {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			t.Errorf("port %d still answers after nginx stopped: a worker outlived its master", port)
		}
	}
	// Both logs: a site without its own access_log writes to the
	// distribution's.
	logged, _ := os.ReadFile(filepath.Join(dir, "access.log"))
	dflt, _ := os.ReadFile(filepath.Join(dir, "default-access.log"))
	log := string(logged) + string(dflt)
	t.Logf("access log:\n%s", log)
	if strings.Contains(log, secret) {
		t.Error("the access log carries a secret")
	}
	for _, want := range []string{`"GET /r/* HTTP/1.1"`, `"GET /r/*/cancel HTTP/1.1"`, `"GET /t/*/qr.svg`, `"GET /feeds/* `, `"GET /login/reset/* `,
		`"GET /api/v1/registrations/*/cancel `, `"GET /checkin/events/fest/search `, `"GET /<escaped> `, `"https://elsewhere.example"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the access log lacks %s", want)
		}
	}
	if n := strings.Count(string(logged), "\n"); n < len(paths)+3 {
		t.Errorf("%d lines in the site's access log, want at least %d", n, len(paths)+3)
	}
	if len(dflt) != 0 {
		t.Error("the distribution's default access log got lines")
	}
}

func client(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:     d.DialContext,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "treffpunkt.example.org"},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func get(t *testing.T, c *http.Client, url, referer string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "treffpunkt.example.org"
	if referer != "" {
		req.Header.Set("Referer", referer)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, base string, stderr *bytes.Buffer) {
	t.Helper()
	c := client("127.0.0.1")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, base+"/readyz", nil)
		req.Host = "treffpunkt.example.org"
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			return
		}
	}
	t.Fatalf("nginx did not start:\n%s", stderr.String())
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeCert writes a throwaway self-signed certificate as fullchain.pem and
// privkey.pem.
func writeCert(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "treffpunkt.example.org"},
		DNSNames: []string{"treffpunkt.example.org"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fullchain.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "privkey.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
}
