package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Size limits of request fields (docs/API.md "Limits"). They bound what one
// row can hold, so that no single field can make a list or a run snapshot
// large: the 1 MiB body limit alone let a description take a megabyte.
const (
	MaxNameChars   = 200       // names, keys and other one-line identifiers
	MaxTextBytes   = 64 << 10  // free text: descriptions, directive text, PEM blocks
	MaxConfigBytes = 256 << 10 // a JSON object or array field (task_config, capabilities…)
)

// nameFields are the string fields held to MaxNameChars; every other string
// field is free text.
var nameFields = map[string]bool{
	"name": true, "key": true, "task_key": true, "task": true,
	"cron_expr": true, "timezone": true, "base_url": true,
}

// checkFields applies the limits and the NUL rule to every top-level field
// of a JSON object body, before anything reaches the database: PostgreSQL
// refuses NUL in text and jsonb, and would answer with an error of its own.
// A nested object or array is checked as a whole and named by its top-level
// field. b must already have decoded as one object.
func checkFields(b []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil // the typed decode reports malformed JSON
	}
	fields := map[string][]string{}
	for name, raw := range top {
		if strings.ContainsRune(name, 0) {
			// Unknown to every body, but named in the answer: refuse it here,
			// as the same NUL in a nested key is.
			return fieldError("body", "must not contain NUL (\\u0000) characters in any field name")
		}
		if msg := checkField(name, raw); msg != "" {
			fields[name] = append(fields[name], msg)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(fields)) // a stable message
	return badRequest(fields, "invalid %s: %s", strings.Join(names, ", "), fields[names[0]][0])
}

// checkField returns why one top-level field is refused, or "".
func checkField(name string, raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return ""
		}
		if strings.ContainsRune(s, 0) {
			return "must not contain NUL (\\u0000) characters"
		}
		if nameFields[name] {
			if utf8.RuneCountInString(s) > MaxNameChars {
				return "must be at most " + strconv.Itoa(MaxNameChars) + " characters"
			}
		} else if len(s) > MaxTextBytes {
			return "must be at most " + strconv.Itoa(MaxTextBytes) + " bytes (64 KiB)"
		}
	case '{', '[':
		if len(raw) > MaxConfigBytes {
			return "must be at most " + strconv.Itoa(MaxConfigBytes) + " bytes of JSON (256 KiB)"
		}
		var v any
		if err := json.Unmarshal(raw, &v); err == nil && hasNUL(v) {
			return "must not contain NUL (\\u0000) characters in any key or string"
		}
	}
	return ""
}

// hasNUL reports whether a decoded JSON value holds a NUL in any string or
// object key.
func hasNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, 0)
	case []any:
		for _, e := range v {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if strings.ContainsRune(k, 0) || hasNUL(e) {
				return true
			}
		}
	}
	return false
}
