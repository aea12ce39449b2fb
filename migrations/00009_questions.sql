-- +goose Up
-- Questions per event (docs/organisers.md, "Questions"): events.questions
-- holds the list of question definitions, registrations.answers the answers
-- keyed by question key. Both columns exist since 00001; the application
-- validates their contents, and these constraints keep their shape, so that
-- every reader can rely on a list and an object. Retention blanks answers
-- with names and emails (internal/registration/retention.go).
ALTER TABLE events
    ADD CONSTRAINT events_questions_list CHECK (jsonb_typeof(questions) = 'array');
ALTER TABLE registrations
    ADD CONSTRAINT registrations_answers_object CHECK (jsonb_typeof(answers) = 'object');

-- +goose Down
ALTER TABLE registrations DROP CONSTRAINT registrations_answers_object;
ALTER TABLE events DROP CONSTRAINT events_questions_list;
