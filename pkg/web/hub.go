package web

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// hub holds the process's one LISTEN on cyberbrain_runs and fans each
// notification out to every open event stream, after loading the changed
// runs' states once (never once per browser).
type hub struct {
	st  *store.Store
	log *zap.Logger

	mu    sync.Mutex
	subs  map[chan []byte]struct{}
	ready chan struct{} // closed once the first LISTEN is up

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// runsEvent is the data of an SSE "runs" event: the changed runs, or All
// when the hub cannot say which (too many, or it reconnected).
type runsEvent struct {
	Runs []store.RunState `json:"runs"`
	All  bool             `json:"all,omitempty"`
}

func newHub(st *store.Store, log *zap.Logger) *hub {
	ctx, cancel := context.WithCancel(context.Background())
	return &hub{st: st, log: log, subs: map[chan []byte]struct{}{}, ready: make(chan struct{}),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// Start begins listening; Stop ends it and closes every subscription.
func (h *hub) Start() { go h.run() }

func (h *hub) Stop() {
	h.cancel()
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		close(ch)
		delete(h.subs, ch)
	}
}

// subscribe returns a channel of encoded events; it is closed when the hub
// stops or the subscriber falls too far behind (the browser reconnects).
func (h *hub) subscribe() chan []byte {
	ch := make(chan []byte, 32)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		close(ch)
		return ch
	}
	h.subs[ch] = struct{}{}
	return ch
}

func (h *hub) unsubscribe(ch chan []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; ok {
		delete(h.subs, ch)
		close(ch)
	}
}

func (h *hub) broadcast(ev runsEvent) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- b:
		default: // too slow: drop it, its browser reconnects and refreshes
			delete(h.subs, ch)
			close(ch)
		}
	}
}

// run keeps a LISTEN open, reconnecting with a bounded backoff; after a
// reconnect it tells browsers to refresh (notifications may have been lost).
func (h *hub) run() {
	defer close(h.done)
	backoff, first := 100*time.Millisecond, true
	for h.ctx.Err() == nil {
		l, err := h.st.Listen(h.ctx, domain.RunsChannel)
		if err != nil {
			h.log.Warn("dashboard: listen for run changes failed; retrying", zap.Error(err), zap.Duration("in", backoff))
			select {
			case <-h.ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if first {
			close(h.ready)
			first = false
		} else {
			h.broadcast(runsEvent{All: true})
		}
		h.receive(l)
		_ = l.Close(context.Background())
	}
}

// receive forwards notifications until the connection fails or Stop.
func (h *hub) receive(l *store.Listener) {
	for {
		n, err := l.WaitForNotification(h.ctx)
		if err != nil {
			if h.ctx.Err() == nil {
				h.log.Warn("dashboard: run-change listener lost; reconnecting", zap.Error(err))
			}
			return
		}
		h.forward(n.Payload)
	}
}

func (h *hub) forward(payload string) {
	h.mu.Lock()
	watched := len(h.subs) > 0
	h.mu.Unlock()
	if !watched {
		return // nobody is looking: no query
	}
	ids := parseIDs(payload)
	if ids == nil {
		h.broadcast(runsEvent{All: true})
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
	defer cancel()
	states, err := h.st.RunStates(ctx, ids)
	if err != nil {
		h.broadcast(runsEvent{All: true})
		return
	}
	h.broadcast(runsEvent{Runs: states})
}

// parseIDs reads "1,2,3"; nil for "*" or anything unreadable.
func parseIDs(p string) []int64 {
	var ids []int64
	for f := range strings.SplitSeq(p, ",") {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil
		}
		ids = append(ids, id)
	}
	return ids
}
