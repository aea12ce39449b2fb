package calendar_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"regexp"
	"testing"
	"time"

	"treffpunkt/internal/calendar"
	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
	"treffpunkt/internal/org"
	"treffpunkt/internal/registration"
	"treffpunkt/internal/testdb"
	webfs "treffpunkt/web"
)

// testCatalogue is the app's catalogue with German as the default.
func testCatalogue(t testing.TB) *i18n.Catalogue {
	t.Helper()
	cat, err := i18n.Load(webfs.FS, "de")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

var tokenRE = regexp.MustCompile(`^[a-z2-7]{32}$`)

// A personal feed's token carries 160 bits, the database holds only its
// SHA-256 and a nonce, and a new link makes the old token worthless.
func TestPersonalTokensAreStoredHashedAndRevocable(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	o, err := org.New(db).Create(ctx, org.Org{Slug: "miso", Name: "MiSO e. V."})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(48 * time.Hour).Truncate(time.Minute)
	end := start.Add(2 * time.Hour)
	slug, pub := "treffen", event.Published
	if _, err := event.New(event.Options{DB: db}).Create(ctx, o.ID, event.Input{
		Slug: &slug, Status: &pub, Title: event.Texts{"de": "Treffen"}, StartsAt: &start, EndsAt: &end,
	}); err != nil {
		t.Fatal(err)
	}
	res, err := registration.New(registration.Options{DB: db}).SignUp(ctx, slug, registration.SignupInput{Name: "Omid", Email: "omid@example.org", PartySize: 1, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	reg := res.Registration

	for _, key := range []string{"", "a-secret-key-of-at-least-32-characters!"} {
		s := calendar.New(calendar.Options{DB: db, Catalogue: testCatalogue(t), BaseURL: "https://treffpunkt.example", DefaultLang: "de", SecretKey: key})
		if _, err := db.Exec(`DELETE FROM calendar_feed_registrations; DELETE FROM calendar_feeds`); err != nil {
			t.Fatal(err)
		}
		tok, err := s.CreateLink(ctx, reg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !tokenRE.MatchString(tok) {
			t.Fatalf("token %q", tok)
		}
		var hash, nonce []byte
		if err := db.QueryRow(`SELECT token_hash, nonce FROM calendar_feeds`).Scan(&hash, &nonce); err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256([]byte(tok)); !bytes.Equal(hash, sum[:]) || bytes.Contains(nonce, []byte(tok)) {
			t.Errorf("the database does not hold just the token's SHA-256")
		}
		// The page can show the link again; creating again keeps it.
		if link, err := s.LinkFor(ctx, reg.ID, reg.Email, ""); err != nil || link.Token != tok {
			t.Errorf("LinkFor = %+v, %v", link, err)
		}
		if again, _ := s.CreateLink(ctx, reg.ID); again != tok {
			t.Errorf("creating twice gave a new token")
		}
		if _, _, err := s.PersonalFeed(ctx, tok, ""); err != nil {
			t.Errorf("feed: %v", err)
		}
		fresh, err := s.RenewLink(ctx, reg.ID)
		if err != nil || fresh == tok || !tokenRE.MatchString(fresh) {
			t.Fatalf("renew: %q, %v", fresh, err)
		}
		if _, _, err := s.PersonalFeed(ctx, tok, ""); err == nil {
			t.Errorf("the old token still works")
		}
		if _, err := s.PersonalStamp(ctx, tok, ""); err == nil {
			t.Errorf("the old token still has a stamp")
		}
		if _, _, err := s.PersonalFeed(ctx, fresh, ""); err != nil {
			t.Errorf("the new token: %v", err)
		}
	}
	// A changed SECRET_KEY invalidates links; the page then offers a new one.
	s := calendar.New(calendar.Options{DB: db, Catalogue: testCatalogue(t), BaseURL: "https://treffpunkt.example", SecretKey: "another-secret-key-of-32-characters!!"})
	if link, err := s.LinkFor(ctx, reg.ID, reg.Email, ""); err != nil || link.Token != "" {
		t.Errorf("after a key change LinkFor = %+v, %v", link, err)
	}
	if tok, err := s.CreateLink(ctx, reg.ID); err != nil || !tokenRE.MatchString(tok) {
		t.Errorf("after a key change CreateLink = %q, %v", tok, err)
	}
}
