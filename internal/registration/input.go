package registration

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
	"treffpunkt/internal/event"
	"treffpunkt/internal/text"
)

// SignupInput is what a participant sends.
type SignupInput struct {
	Name         string
	Email        string
	PartySize    int
	Lang         string
	MemberNumber string
	BirthDate    string // YYYY-MM-DD, asked only when the event has an age range
	Consent      bool
	// Answers answer the event's questions by key (questions.go).
	Answers map[string]any
	// FormAnswers, when set, are the answers as a form posts them (by
	// key, as typed); the service reads them into Answers against the
	// event's questions (formAnswers), so that the form needs no read of
	// the event of its own.
	FormAnswers url.Values
	// Sessions are the keys of the sessions chosen (sessions.go).
	Sessions []string
}

type signup struct {
	SignupInput
	birthDate *time.Time
	// answers are the validated Answers, set by checkRules.
	answers Answers
	// sessions are the chosen sessions' indexes in the event's list, set
	// by checkRules.
	sessions []int
}

// check validates the parts that do not need the event, trims them, and
// names every bad field.
func (in SignupInput) check(f apperr.Fields) signup {
	in.Name = strings.TrimSpace(in.Name)
	in.Lang = strings.TrimSpace(in.Lang)
	in.MemberNumber = strings.TrimSpace(in.MemberNumber)
	in.BirthDate = strings.TrimSpace(in.BirthDate)

	checkName(f, in.Name)
	email, p := text.Email(in.Email)
	if p != "" {
		f.Add("email", p, "Max", 254)
	}
	in.Email = email
	checkPartySize(f, in.PartySize)
	checkLang(f, in.Lang)
	if p := text.Problem(in.MemberNumber, 64); p != "" {
		f.Add("member_number", p, "Max", 64)
	}
	if !in.Consent {
		f.Add("consent", "err.consent")
	}
	s := signup{SignupInput: in}
	if in.BirthDate != "" {
		d, err := time.Parse(time.DateOnly, in.BirthDate)
		if err != nil || d.Year() < 1900 || d.After(time.Now()) {
			f.Add("birth_date", "err.birth_date")
		} else {
			s.birthDate = &d
		}
	}
	return s
}

// The rules of the fields a registration may change later (change.go)
// have one home each, used by the sign-up and the change alike. Each takes
// its value trimmed.

// checkName is the rule for the party's name.
func checkName(f apperr.Fields, name string) {
	if name == "" {
		f.Add("name", "err.required")
	} else if p := text.Problem(name, 200); p != "" {
		f.Add("name", p, "Max", 200)
	}
}

// checkPartySize is the rule for the party's size that needs no event; the
// event's maximum is checkPartyMax.
func checkPartySize(f apperr.Fields, n int) {
	if n < 1 {
		f.Add("party_size", "err.party_size_min")
	}
}

// checkPartyMax is the event's maximum party size.
func checkPartyMax(f apperr.Fields, e *event.Event, n int) {
	if n > e.MaxPartySize {
		f.Add("party_size", "err.party_size_max", "Max", e.MaxPartySize)
	}
}

// checkLang is the rule for the language mails are written in; "" leaves
// the choice to the face (the page's language) or the event.
func checkLang(f apperr.Fields, lang string) {
	if lang != "" && !slices.Contains(config.Languages, lang) {
		f.Add("lang", "err.lang")
	}
}

// eventAnswers checks the answers to e's questions, given as the API sends
// them or, when form is not nil, as a form posts them, and returns them
// cleaned.
func eventAnswers(f apperr.Fields, e *event.Event, answers map[string]any, form url.Values) Answers {
	if form != nil {
		answers = formAnswers(e.Questions, form)
	}
	return checkAnswers(e.Questions, answers, f)
}

// ageOn is the age in whole years on day (birthdays count on the day; a
// 29 February birthday counts on 1 March in common years).
func ageOn(birth time.Time, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || (day.Month() == birth.Month() && day.Day() < birth.Day()) {
		age--
	}
	return age
}
