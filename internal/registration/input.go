package registration

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"treffpunkt/internal/apperr"
	"treffpunkt/internal/config"
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

	if in.Name == "" {
		f.Add("name", "err.required")
	} else if p := text.Problem(in.Name, 200); p != "" {
		f.Add("name", p, "Max", 200)
	}
	email, p := text.Email(in.Email)
	if p != "" {
		f.Add("email", p, "Max", 254)
	}
	in.Email = email
	if in.PartySize < 1 {
		f.Add("party_size", "err.party_size_min")
	}
	if in.Lang != "" && !slices.Contains(config.Languages, in.Lang) {
		f.Add("lang", "err.lang")
	}
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

// ageOn is the age in whole years on day (birthdays count on the day; a
// 29 February birthday counts on 1 March in common years).
func ageOn(birth time.Time, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || (day.Month() == birth.Month() && day.Day() < birth.Day()) {
		age--
	}
	return age
}
