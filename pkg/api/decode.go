package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Opt is a request field that tells "absent" from "null" from a value, which
// PATCH needs: absent keeps the stored value, null clears it.
type Opt[T any] struct {
	Set  bool
	Null bool
	V    T
}

// UnmarshalJSON records that the field was present.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// readBody reads the request body, bounded by MaxBodyBytes (the BodyLimit
// middleware rejects a declared Content-Length beyond it; this catches
// chunked bodies too).
func readBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxBodyBytes+1))
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return nil, he
		}
		return nil, badRequest(nil, "could not read the request body")
	}
	if len(b) > MaxBodyBytes {
		return nil, echo.ErrStatusRequestEntityTooLarge
	}
	return b, nil
}

// decodeBody decodes a JSON object into dst strictly: unknown fields, wrong
// types, trailing data and anything but one object are 400s naming the
// problem. An empty body counts as {} when emptyOK.
func decodeBody(c echo.Context, dst any, emptyOK bool) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeJSON(b, dst, emptyOK)
}

// decodeJSON is decodeBody's pure part (the fuzz targets call it).
func decodeJSON(b []byte, dst any, emptyOK bool) error {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		if emptyOK {
			return nil
		}
		return badRequest(nil, "request body is required: a JSON object")
	}
	if trimmed[0] != '{' {
		return badRequest(nil, "request body must be a JSON object")
	}
	// JSON text must be UTF-8 (RFC 8259 §8.1); encoding/json would silently
	// replace invalid bytes in strings with U+FFFD and the mangled value would
	// be stored, so the client could not read back what it sent.
	if !utf8.Valid(trimmed) {
		return badRequest(nil, "malformed JSON: invalid UTF-8 in the request body")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest(nil, "malformed JSON: unexpected data after the object")
	}
	return checkFields(trimmed)
}

// jsonError turns encoding/json's errors into client messages.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return badRequest(nil, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return badRequest(nil, "malformed JSON: unexpected end of input")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return badRequest(nil, "request body must be a JSON object")
		}
		return fieldError(field, fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldError(name, "unknown field")
	}
	return badRequest(nil, "malformed JSON: %s", err.Error())
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("an integer in range (%s)", t.Kind())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // json.RawMessage
			return "JSON"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// jsonObject checks raw is a JSON object (for jsonb columns that must be one).
func jsonObject(field string, raw json.RawMessage) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return fieldError(field, "must be a JSON object")
	}
	return nil
}
