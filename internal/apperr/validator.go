package apperr

// Fields collects field errors while a form or JSON body is checked; the first
// error per field wins, since that is the one a person should fix first.
type Fields map[string]Msg

// Add records a message for field unless the field already has one.
func (f Fields) Add(field, msgID string, kv ...any) {
	if _, ok := f[field]; !ok {
		f[field] = M(msgID, kv...)
	}
}

// Err is nil when no field failed, else a 422 naming them.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: Invalid, Msg: M("err.invalid"), Fields: f}
}
