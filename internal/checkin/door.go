package checkin

import "encoding/json"

// DoorAnswer is an answer that door staff see at check-in: the question
// marked door: true (say, "needs a wheelchair space"), its label and the
// answer in the event's default language, and the answer's raw value.
type DoorAnswer struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	// Value is as the registration holds it: a string, a list of option
	// values, a bool or a number; Text is the same for reading, with yes
	// and no as "yes" and "no".
	Value any    `json:"value"`
	Text  string `json:"text"`
}

// doorAnswers picks the answers to ev's door questions from a
// registration's answers (jsonb); unanswered questions are left out.
func doorAnswers(ev *Event, raw []byte) []DoorAnswer {
	if len(ev.DoorQuestions) == 0 || len(raw) == 0 {
		return nil
	}
	var ans map[string]any
	if json.Unmarshal(raw, &ans) != nil {
		return nil
	}
	var out []DoorAnswer
	for i := range ev.DoorQuestions {
		q := &ev.DoorQuestions[i]
		v, ok := ans[q.Key]
		if !ok || v == nil {
			continue
		}
		label, _ := q.Label.In(ev.DefaultLang, ev.DefaultLang)
		out = append(out, DoorAnswer{
			Key: q.Key, Label: label, Value: v,
			Text: q.AnswerText(v, ev.DefaultLang, ev.DefaultLang, "yes", "no"),
		})
	}
	return out
}
