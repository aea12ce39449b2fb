package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"treffpunkt/internal/apperr"
)

// maxBody repeats the router's body limit so that the decoder never reads an
// unbounded body into memory, whoever mounts it.
const maxBody = 64 << 10

// decodeJSON reads the request body into dst, a pointer to a struct, and
// answers every way a body can be wrong with an *apperr.Error:
//
//   - not application/json: 415
//   - larger than 64 KiB: 413
//   - not valid UTF-8 (checked on the raw bytes, because encoding/json would
//     silently turn bad bytes into U+FFFD): 422
//   - not one JSON object, trailing data, or a name given twice: 400
//   - a name the struct does not have (matched exactly; encoding/json alone
//     would accept "Name" for "name"): 422 naming the field
//   - a value of the wrong type, or a time that is not RFC 3339: 422 naming
//     every such field
func decodeJSON(c *gin.Context, dst any) error {
	if err := checkContentType(c.GetHeader("Content-Type")); err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if !utf8.Valid(body) {
		return apperr.New(apperr.Invalid, "err.text.utf8")
	}
	members, err := objectMembers(body)
	if err != nil {
		return err
	}
	t := reflect.TypeOf(dst).Elem()
	known := jsonFields(t)
	f := apperr.Fields{}
	for _, m := range members {
		if _, ok := known[m.name]; !ok {
			f.Add(m.name, "err.unknown_field")
		}
	}
	var cause error
	if len(f) == 0 {
		if cause = strictDecode(body, dst); cause == nil {
			return nil
		}
	}
	// Decode member by member to name every bad field, not just the first.
	for _, m := range members {
		if _, ok := known[m.name]; !ok {
			continue
		}
		one, _ := json.Marshal(map[string]json.RawMessage{m.name: m.value})
		if err := strictDecode(one, reflect.New(t).Interface()); err != nil {
			field, msg := describe(err, m.name, known[m.name])
			f.Add(field, msg)
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	return &apperr.Error{Code: apperr.BadRequest, Msg: apperr.M("err.json"), Cause: cause}
}

func checkContentType(ct string) error {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return apperr.New(apperr.UnsupportedMedia, "err.json_content_type")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return apperr.New(apperr.UnsupportedMedia, "err.json_content_type")
	}
	return nil
}

func readBody(c *gin.Context) ([]byte, error) { return readLimited(c, maxBody, "err.json") }

// readLimited reads the request body, at most limit bytes; a body it cannot
// read is a bad request with the message badMsg.
func readLimited(c *gin.Context, limit int64, badMsg string) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, apperr.New(apperr.TooLarge, "err.too_large")
	}
	if err != nil {
		return nil, &apperr.Error{Code: apperr.BadRequest, Msg: apperr.M(badMsg), Cause: err}
	}
	return body, nil
}

type member struct {
	name  string
	value json.RawMessage
}

// objectMembers checks that body is exactly one JSON object with distinct
// names and returns its members in order.
func objectMembers(body []byte) ([]member, error) {
	bad := func(cause error) error {
		return &apperr.Error{Code: apperr.BadRequest, Msg: apperr.M("err.json"), Cause: cause}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, bad(err)
	}
	if tok != json.Delim('{') {
		return nil, &apperr.Error{Code: apperr.BadRequest, Msg: apperr.M("err.json_type"), Cause: errors.New("body is not a JSON object")}
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, bad(err)
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, bad(err)
		}
		if seen[name] {
			return nil, bad(errors.New("duplicate name " + name))
		}
		seen[name] = true
		out = append(out, member{name: name, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad(errors.New("data after the JSON object"))
	}
	return out, nil
}

func strictDecode(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}

// describe names the field and the message for a decode error of the member
// name, whose Go type is t.
func describe(err error, name string, t reflect.Type) (string, string) {
	if s, ok := strings.CutPrefix(err.Error(), `json: unknown field "`); ok {
		// Only nested objects get here: top-level names were checked before.
		return name + "." + strings.TrimSuffix(s, `"`), "err.unknown_field"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && strings.Contains(te.Field, ".") {
		// encoding/json names a field of an embedded struct with the
		// struct's name in front (FactsInput.sign_language); the client
		// sent it at the top level.
		if f := strings.TrimPrefix(te.Field, "FactsInput."); f == name {
			return name, typeMsg(te.Type)
		}
		return te.Field, typeMsg(te.Type)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return name, "err.date"
	}
	return name, typeMsg(t)
}

var timeType = reflect.TypeFor[time.Time]()

// typeMsg is the message for a value that does not fit a field of type t.
func typeMsg(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "err.json_type"
	}
	if t == timeType {
		return "err.date"
	}
	// event.Null[T] and the like: the value's type decides.
	if t.Kind() == reflect.Struct {
		if v, ok := t.FieldByName("V"); ok {
			return typeMsg(v.Type)
		}
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "err.number"
	}
	return "err.json_type"
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the JSON names of struct type t to their Go types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "-" {
			continue
		}
		// An embedded struct without a name gives its fields, as in
		// encoding/json (event.Input embeds event.FactsInput).
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			maps.Copy(m, jsonFields(sf.Type))
			continue
		}
		if name == "" {
			name = sf.Name
		}
		m[name] = sf.Type
	}
	fieldCache.Store(t, m)
	return m
}
