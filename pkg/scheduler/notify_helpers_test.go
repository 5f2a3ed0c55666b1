package scheduler_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/notify"
	"github.com/cyberbrain/cyberbrain/pkg/scheduler"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// hookCall is one request a webhook receiver got, and how it answered
// (0: it never answered because the sender went away).
type hookCall struct {
	Key    string
	Body   []byte
	Answer int
}

// hookReceiver is a webhook endpoint on loopback that dedups by
// idempotency key as a careful receiver would: it answers scripted
// statuses first, then 200. With holdFirst, the first request of each key
// is held until its sender goes away (a replica killed mid-send).
type hookReceiver struct {
	*httptest.Server
	mu        sync.Mutex
	calls     []hookCall
	script    []int
	holdFirst bool
	seen      map[string]bool
	arrived   chan struct{} // one per request, for waitFor
}

func newHookReceiver(t *testing.T, holdFirst bool, script ...int) *hookReceiver {
	t.Helper()
	h := &hookReceiver{script: script, holdFirst: holdFirst, seen: map[string]bool{}, arrived: make(chan struct{}, 1024)}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	h.mu.Lock()
	hold := h.holdFirst && !h.seen[key]
	h.seen[key] = true
	code := http.StatusOK
	if !hold && len(h.script) > 0 {
		code, h.script = h.script[0], h.script[1:]
	}
	i := len(h.calls)
	h.calls = append(h.calls, hookCall{Key: key, Body: b})
	h.mu.Unlock()
	h.arrived <- struct{}{}
	if hold {
		<-r.Context().Done() // the sender died: it never gets an answer
		return
	}
	h.mu.Lock()
	h.calls[i].Answer = code
	h.mu.Unlock()
	w.WriteHeader(code)
}

func (h *hookReceiver) got() []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookCall(nil), h.calls...)
}

// notifyConfig makes deliveries fast for tests: short poll, short retry
// backoff; lease as given (the kill test wants it short).
func notifyConfig(lease time.Duration) func(*scheduler.Config) {
	return func(c *scheduler.Config) {
		c.Notify = &notify.Config{Interval: 100 * time.Millisecond, Lease: lease, SendTimeout: 20 * time.Second,
			Backoff: func(int) time.Duration { return 20 * time.Millisecond },
			Sender:  &notify.Sender{PublicURL: "https://cb.example.com"}}
	}
}

// attempted is a replica's deliverer signal for waitFor.
func attempted(rs ...*replica) []reflect.Value {
	out := make([]reflect.Value, len(rs))
	for i, r := range rs {
		out[i] = sig(&r.Deliverer().TestSignals.Attempted)
	}
	return out
}

func addChannel(t *testing.T, st *store.Store, name string, kind domain.ChannelKind, secrets map[string]string) int64 {
	t.Helper()
	sec, _ := json.Marshal(secrets)
	c := &store.NotificationChannel{Name: name, Kind: kind, Enabled: true, Settings: store.JSON(`{}`), Secrets: sec}
	if err := st.SaveNotificationChannel(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func addRule(t *testing.T, st *store.Store, r store.NotificationRule) int64 {
	t.Helper()
	if r.Name == "" {
		r.Name = "rule-" + string(r.Event) + "-" + time.Now().Format("150405.000000000")
	}
	r.Enabled = true
	if r.MinSeverity == "" {
		r.MinSeverity = "high"
	}
	if err := st.SaveNotificationRule(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// logBuffer is a logger that writes to the test log and to a buffer the
// test scans for secrets.
type logBuffer struct{ testenv.Buffer }

func (l *logBuffer) logger(t *testing.T, name string) *zap.Logger {
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(l), zap.DebugLevel)
	return zap.New(zapcore.NewTee(zaptest.NewLogger(t).Core(), core)).Named(name)
}

// reflectChan is any channel for waitFor.
func reflectChan[T any](ch chan T) reflect.Value { return reflect.ValueOf(ch) }
