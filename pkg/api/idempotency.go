package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// HeaderIdempotencyKey names the request header that makes a launch or a
// run-now safe to retry (docs/API.md "Idempotency keys").
const HeaderIdempotencyKey = "Idempotency-Key"

// headerReplayed marks an answer that is the stored outcome of an earlier
// request with the same key, not a new run.
const headerReplayed = "Idempotent-Replayed"

// idempotencyKey reads the Idempotency-Key header for scope; nil when the
// request has none. fingerprint identifies what the request asks for, so
// that the key cannot be reused for something else.
func idempotencyKey(c echo.Context, scope string, fingerprint any) (*store.IdempotencyKey, error) {
	vals := c.Request().Header.Values(HeaderIdempotencyKey)
	if len(vals) == 0 {
		return nil, nil
	}
	key := vals[0]
	if len(vals) > 1 || !validKey(key) {
		msg := "must be given once, 1 to 200 printable ASCII characters (a UUID is a good key)"
		return nil, badRequest(map[string][]string{HeaderIdempotencyKey: {msg}}, "invalid %s header: %s", HeaderIdempotencyKey, msg)
	}
	b, err := json.Marshal(fingerprint)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return &store.IdempotencyKey{Scope: scope, Key: key, Fingerprint: hex.EncodeToString(sum[:])}, nil
}

func validKey(k string) bool {
	if k == "" || len(k) > 200 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// keyError turns the store's reused-key error into the 422 that says so.
func keyError(err error) error {
	if errors.Is(err, store.ErrKeyReused) {
		return &apiError{Status: http.StatusUnprocessableEntity,
			Message: "Idempotency-Key already used within 24 hours for a different request; use a new key for a new request"}
	}
	return err
}

// markReplayed sets the replay header and returns the status of a replayed
// answer (200) or of a new run (created).
func markReplayed(c echo.Context, replayed bool, created int) int {
	if !replayed {
		return created
	}
	c.Response().Header().Set(headerReplayed, "true")
	return http.StatusOK
}
