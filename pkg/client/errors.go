package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// APIError is a non-2xx answer. Message and Fields are the API's error
// envelope ({"error": …, "fields": {…}}).
type APIError struct {
	Method, Path string
	Status       int
	Message      string
	Fields       map[string][]string
}

// Error reads like "POST /api/schedules/: 400 invalid schedule
// (cron_expr: invalid cron expression …)", with a hint for 401.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
	if len(e.Fields) > 0 {
		names := make([]string, 0, len(e.Fields))
		for f := range e.Fields {
			names = append(names, f)
		}
		slices.Sort(names)
		for _, f := range names {
			fmt.Fprintf(&b, "\n  %s: %s", f, strings.Join(e.Fields[f], "; "))
		}
	}
	if e.Status == http.StatusUnauthorized {
		b.WriteString("\n  (set --token or CYBERBRAIN_API_TOKEN to the API's token)")
	}
	return b.String()
}

// IsNotFound reports whether err is an API 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

func readAPIError(resp *http.Response, method, path string) error {
	e := &APIError{Method: method, Path: path, Status: resp.StatusCode}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var env struct {
		Error  string              `json:"error"`
		Fields map[string][]string `json:"fields"`
	}
	if json.Unmarshal(data, &env) == nil && env.Error != "" {
		e.Message, e.Fields = env.Error, env.Fields
	} else {
		e.Message = strings.TrimSpace(string(data))
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	return e
}
