package secret

import (
	"crypto/rand"
	"regexp"
	"testing"
)

// Derived tokens and codes have the format of those drawn with
// crypto/rand.Text before (26 upper-case base32 characters), so that
// scanners, URLs and the pages take both alike.
func TestDerivedSecretsLookLikeRandomOnes(t *testing.T) {
	format := regexp.MustCompile(`^[A-Z2-7]{26}$`)
	key, nonce := Nonce(), Nonce()
	for _, s := range []string{rand.Text(), ManageToken(key, nonce), TicketCode(key, nonce, 1)} {
		if !format.MatchString(s) {
			t.Errorf("%q is not 26 base32 characters", s)
		}
	}
	if TicketCode(key, nonce, 1) == TicketCode(key, nonce, 2) || ManageToken(key, nonce) == ManageToken(Nonce(), nonce) {
		t.Error("seats or keys share a secret")
	}
	if ManageToken(key, nil) != "" || TicketCode(key, nil, 1) != "" {
		t.Error("a registration without a nonce has a secret")
	}
}

// A sealed secret opens only under the key it was sealed with.
func TestSealOpensOnlyUnderItsKey(t *testing.T) {
	k1, k2 := make([]byte, 32), make([]byte, 32)
	k2[0] = 1
	sealed := Seal(k1, "https://example.org/confirm/SECRET")
	if got, err := Open(k1, sealed); err != nil || got != "https://example.org/confirm/SECRET" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := Open(k2, sealed); err == nil {
		t.Fatal("opened under another key")
	}
	if _, err := Open(k1, sealed[:10]); err == nil {
		t.Fatal("opened a cut sealed text")
	}
}

func BenchmarkScanHash(b *testing.B) {
	code := rand.Text()
	for b.Loop() {
		Hash(code)
	}
}

func BenchmarkTicketCodes(b *testing.B) {
	key, nonce := Nonce(), Nonce()
	for b.Loop() {
		Hash(TicketCode(key, nonce, 1))
	}
}
