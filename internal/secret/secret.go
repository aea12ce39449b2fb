// Package secret holds what every secret link of Treffpunkt rests on: the
// installation's key (SECRET_KEY), the keys derived from it per purpose, and
// the one hash by which a secret is stored and looked up.
//
// The rule (docs/operations.md, "Secret links and SECRET_KEY"): a copy of the database alone
// yields no working link. So the database keeps only SHA-256 hashes of
// secrets, and where a secret must be shown again (a manage link in a mail
// rendered at send time, the ticket codes on the registration page) a
// random nonce from which the secret is derived with a key that is not in
// the database.
package secret

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Hash is how a secret token is stored and looked up: its SHA-256. The
// tokens carry at least 128 random bits, so no salt or slow hash is needed.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// generatedName names the secret generated and kept in app_secrets when
// SECRET_KEY is empty (development only). The name is the one the calendar
// feeds used first, so that their links survive.
const generatedName = "calendar_feeds"

// Source gives the keys derived from the installation's secret: SECRET_KEY,
// or when it is empty a secret generated on first use and kept in the
// database (development only: then the database does hold everything a
// link needs, and `serve` refuses an https BASE_URL without SECRET_KEY).
// The zero value with DB set works; it loads the secret once.
type Source struct {
	db        *sqlx.DB
	secretKey string

	mu   sync.Mutex
	root []byte
	keys map[string][]byte
}

// New is the source of db's installation, keyed by SECRET_KEY (empty: the
// secret generated into the database).
func New(db *sqlx.DB, secretKey string) *Source { return &Source{db: db, secretKey: secretKey} }

// Root returns the installation's secret.
func (s *Source) Root(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rootLocked(ctx)
}

func (s *Source) rootLocked(ctx context.Context) ([]byte, error) {
	if s.root != nil {
		return s.root, nil
	}
	if s.secretKey != "" {
		s.root = []byte(s.secretKey)
		return s.root, nil
	}
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	if _, err := s.db.ExecContext(ctx, `
INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, generatedName, fresh); err != nil {
		return nil, fmt.Errorf("store generated secret: %w", err)
	}
	var root []byte
	if err := s.db.GetContext(ctx, &root, `SELECT value FROM app_secrets WHERE name = $1`, generatedName); err != nil {
		return nil, fmt.Errorf("read generated secret: %w", err)
	}
	s.root = root
	return root, nil
}

// Key returns HMAC-SHA256(root, purpose): a key of its own per purpose, so
// that a secret of one kind is never valid as another.
func (s *Source) Key(ctx context.Context, purpose string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[purpose]; ok {
		return k, nil
	}
	root, err := s.rootLocked(ctx)
	if err != nil {
		return nil, err
	}
	k := MAC(root, []byte(purpose))
	if s.keys == nil {
		s.keys = make(map[string][]byte)
	}
	s.keys[purpose] = k
	return k, nil
}

// MAC is HMAC-SHA256(key, msg).
func MAC(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// Purposes of the derived secrets. Changing one invalidates every secret
// of its kind.
const (
	ManageTokens = "treffpunkt manage tokens v1"
	TicketCodes  = "treffpunkt ticket codes v1"
	// CertificateCodes derives the verification codes of certificates of
	// attendance (registration/certificate.go).
	CertificateCodes = "treffpunkt certificate codes v1"
)

// textEncoding is the alphabet of crypto/rand.Text, which made the manage
// tokens and ticket codes before they were derived: upper-case base32.
var textEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Text derives a secret of 128 bits from key and msg as 26 characters of
// upper-case base32, the format of manage tokens and ticket codes.
func Text(key, msg []byte) string {
	return textEncoding.EncodeToString(MAC(key, msg)[:16])
}

// Nonce returns 16 random bytes from crypto/rand.
func Nonce() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b
}

// ManageToken derives a registration's manage token from its nonce with the
// ManageTokens key; "" without a nonce.
func ManageToken(key, nonce []byte) string {
	if nonce == nil {
		return ""
	}
	return Text(key, nonce)
}

// TicketCode derives the code of a registration's seat from its nonce with
// the TicketCodes key; "" without a nonce.
func TicketCode(key, nonce []byte, seat int) string {
	if nonce == nil {
		return ""
	}
	msg := binary.BigEndian.AppendUint32(append(make([]byte, 0, len(nonce)+4), nonce...), uint32(seat))
	return Text(key, msg)
}

// Outbox is the purpose of the key that seals the secrets an outbox row
// carries until it is sent (a confirmation link, a staff member's password
// or invitation link).
const Outbox = "treffpunkt outbox secrets v1"

// Seal encrypts and authenticates plain with AES-256-GCM under key (32
// bytes, from Key) and returns it base64url-encoded: what the database may
// keep of a secret that must be shown once more.
func Seal(key []byte, plain string) string {
	g := gcm(key)
	nonce := make([]byte, g.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(g.Seal(nonce, nonce, []byte(plain), nil))
}

// Open reverses Seal; it fails for a sealed text made under another key.
func Open(key []byte, sealed string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	g := gcm(key)
	if err != nil || len(b) < g.NonceSize() {
		return "", errors.New("secret: malformed sealed text")
	}
	plain, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], nil)
	if err != nil {
		return "", errors.New("secret: sealed under another key")
	}
	return string(plain), nil
}

func gcm(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("secret: key of " + strconv.Itoa(len(key)) + " bytes") // Key returns 32
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return g
}
