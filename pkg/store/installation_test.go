package store_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// Two stores on one database (two replicas of a deployment) agree on the
// installation id; another database on the same cluster (another deployment,
// or another test) gets another one.
func TestInstallationIDIsPerDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.NewDatabaseURL(t)
	open := func() *store.Store {
		st, err := store.Open(ctx, url, store.Options{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	id := func(st *store.Store) string {
		v, err := st.InstallationID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	a1, a2, other := open(), open(), testenv.NewStore(t)
	first := id(a1)
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(first) {
		t.Fatalf("installation id %q is not 12 hex digits", first)
	}
	if again := id(a1); again != first {
		t.Fatalf("the id changed between calls: %q then %q", first, again)
	}
	if peer := id(a2); peer != first {
		t.Fatalf("two stores on one database: %q and %q", first, peer)
	}
	if o := id(other); o == first {
		t.Fatalf("two databases share the installation id %q", o)
	}
}
