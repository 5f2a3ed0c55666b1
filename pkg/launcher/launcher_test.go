package launcher_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/launcher"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// fakeInsert records batch sizes and can hold a batch until released.
type fakeInsert struct {
	mu      sync.Mutex
	batches []int
	entered chan struct{} // one send per batch taken
	release chan struct{} // closed: batches proceed
}

func newFake() *fakeInsert {
	return &fakeInsert{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (f *fakeInsert) insert(_ context.Context, reqs []store.LaunchRequest) []store.LaunchResult {
	f.entered <- struct{}{}
	<-f.release
	f.mu.Lock()
	f.batches = append(f.batches, len(reqs))
	f.mu.Unlock()
	out := make([]store.LaunchResult, len(reqs))
	for i, r := range reqs {
		if len(r.Tasks) > 0 && r.Tasks[0] == "bad" {
			out[i].Err = errors.New("bad launch")
			continue
		}
		out[i].Run = &store.RunDetail{Run: store.Run{ID: *r.TargetHostID}}
	}
	return out
}

// Launches queued while a worker is busy are inserted together, and each
// caller gets its own answer.
func TestConcurrentLaunchesShareABatch(t *testing.T) {
	f := newFake()
	b := launcher.New(f.insert, launcher.Config{Workers: 1})
	b.Start(context.Background())
	defer b.Stop()

	first := make(chan error, 1)
	go func() {
		id := int64(0)
		_, err := b.Launch(context.Background(), store.LaunchRequest{TargetHostID: &id})
		first <- err
	}()
	<-f.entered // the only worker now holds launch 0
	var wg sync.WaitGroup
	errs := make([]error, 10)
	ids := make([]int64, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := int64(i + 1)
			req := store.LaunchRequest{TargetHostID: &id}
			if i == 4 {
				req.Tasks = []string{"bad"}
			}
			d, err := b.Launch(context.Background(), req)
			errs[i] = err
			if d != nil {
				ids[i] = d.ID
			}
		}()
	}
	waitQueued(t, b, 10)
	close(f.release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if i == 4 {
			if errs[i] == nil {
				t.Errorf("launch %d: the bad launch succeeded", i)
			}
			continue
		}
		if errs[i] != nil || ids[i] != int64(i+1) {
			t.Errorf("launch %d: id %d err %v, want its own run", i, ids[i], errs[i])
		}
	}
	if fmt.Sprint(f.batches) != "[1 10]" {
		t.Errorf("batches %v, want [1 10]: the ten queued launches in one batch", f.batches)
	}
}

// waitQueued waits until n launches wait in the batcher's queue.
func waitQueued(t *testing.T, b *launcher.Batcher, n int) {
	t.Helper()
	for b.Queued() < n {
		select {
		case <-t.Context().Done():
			t.Fatal("launches never queued")
		default:
			b.WaitQueueChange()
		}
	}
}

// Stop answers every launch already queued, then refuses new ones.
func TestStopFinishesQueuedLaunchesAndRefusesNew(t *testing.T) {
	f := newFake()
	b := launcher.New(f.insert, launcher.Config{Workers: 1})
	b.Start(context.Background())
	results := make(chan error, 3)
	launch := func(id int64) {
		_, err := b.Launch(context.Background(), store.LaunchRequest{TargetHostID: &id})
		results <- err
	}
	go launch(0)
	<-f.entered // the only worker holds launch 0; the next two must queue
	go launch(1)
	go launch(2)
	waitQueued(t, b, 2)
	stopped := make(chan struct{})
	go func() { b.Stop(); close(stopped) }()
	close(f.release)
	for range 3 {
		if err := <-results; err != nil {
			t.Errorf("queued launch failed at Stop: %v", err)
		}
	}
	<-stopped
	id := int64(9)
	if _, err := b.Launch(context.Background(), store.LaunchRequest{TargetHostID: &id}); !errors.Is(err, launcher.ErrStopped) {
		t.Fatalf("launch after Stop: %v, want ErrStopped", err)
	}
}

// A caller that gave up while its launch was queued gets its context's
// error, and nothing is inserted for it.
func TestAbandonedLaunchIsNotInserted(t *testing.T) {
	f := newFake()
	b := launcher.New(f.insert, launcher.Config{Workers: 1})
	b.Start(context.Background())
	defer b.Stop()
	go func() {
		id := int64(1)
		_, _ = b.Launch(context.Background(), store.LaunchRequest{TargetHostID: &id})
	}()
	<-f.entered
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		id := int64(2)
		_, err := b.Launch(ctx, store.LaunchRequest{TargetHostID: &id})
		done <- err
	}()
	waitQueued(t, b, 1)
	cancel()
	close(f.release)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned launch: %v, want context.Canceled", err)
	}
	b.Stop()
	if fmt.Sprint(f.batches) != "[1]" {
		t.Fatalf("batches %v: the abandoned launch was inserted", f.batches)
	}
}

// Cancelling Start's context stops the batcher like Stop.
func TestStartContextStopsTheBatcher(t *testing.T) {
	f := newFake()
	close(f.release)
	b := launcher.New(f.insert, launcher.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	b.Start(ctx)
	cancel()
	b.Stop() // waits for the workers: returns only once they are gone
	id := int64(1)
	if _, err := b.Launch(context.Background(), store.LaunchRequest{TargetHostID: &id}); !errors.Is(err, launcher.ErrStopped) {
		t.Fatalf("launch after the context ended: %v", err)
	}
}
