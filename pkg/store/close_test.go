package store_test

import (
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// TestCloseTwiceAfterWake: once the notifier has started, a second Close
// used to close its done channel again and panic. The binaries may close the
// store from both their shutdown path and a deferred cleanup, so Close must
// be idempotent; a Wake after Close must neither panic nor block.
func TestCloseTwiceAfterWake(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t) // its cleanup closes the store a third time
	st.Wake()                 // starts the notifier goroutine
	if err := st.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	st.Wake()
}
