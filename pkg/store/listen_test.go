package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// A Listener receives the store's own wake-ups, and ends its wait with the
// context (which is how a scheduler stops listening).
func TestListenReceivesWake(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := st.Listen(ctx, domain.WakeChannel)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close(context.Background())
	st.Wake()
	n, err := l.WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Channel != domain.WakeChannel || n.Payload != "wake" {
		t.Fatalf("notification = %+v", n)
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := l.WaitForNotification(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait without a notification ended with %v, want the context's deadline", err)
	}
}
