package dockerhost

import (
	"context"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func TestAllowlistMatching(t *testing.T) {
	t.Parallel()
	a := NewAllowlist([]store.ContainerAllowlistEntry{
		{ContainerName: "web", Enabled: true},
		{ContainerID: "abc123", Enabled: true},
		{ContainerName: "db", ContainerID: "def", Enabled: true},
		{ContainerName: "off", Enabled: false},
	})
	cases := []struct {
		names []string
		id    string
		want  bool
	}{
		{[]string{"/web"}, "999", true},
		{[]string{"/web-2"}, "999", false},
		{[]string{"/x"}, "abc123ffff", true},
		{[]string{"/x"}, "abc12", false},
		{[]string{"/db"}, "def456", true},
		{[]string{"/db"}, "111", false}, // both given: both must match
		{[]string{"/off"}, "222", false},
	}
	for _, c := range cases {
		if got := a.AllowsAny(c.names, c.id); got != c.want {
			t.Errorf("AllowsAny(%v, %s) = %v, want %v", c.names, c.id, got, c.want)
		}
	}
}

// TestAllowlistPerHost: host entries apply to their host only, global ones
// to every host, disabled ones to none.
func TestAllowlistPerHost(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	a := createHost(t, st, "a", "unix:///tmp/a.sock")
	b := createHost(t, st, "b", "unix:///tmp/b.sock")
	for _, e := range []store.ContainerAllowlistEntry{
		{WorkerHostID: &a.ID, ContainerName: "only-a", Enabled: true},
		{WorkerHostID: &b.ID, ContainerName: "only-b", Enabled: true},
		{ContainerName: "everywhere", Enabled: true},
		{ContainerName: "disabled", Enabled: false},
	} {
		e.Tags = store.JSON(`[]`)
		if err := testenv.SQL(t, st).Create(&e).Error; err != nil {
			t.Fatal(err)
		}
		if !e.Enabled {
			testenv.SQL(t, st).Model(&e).Update("enabled", false)
		}
	}
	entries, err := st.AllowlistForHost(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	al := NewAllowlist(entries)
	if !al.Allows("/only-a", "") || !al.Allows("everywhere", "") || al.Allows("only-b", "") || al.Allows("disabled", "") {
		t.Errorf("host a entries = %+v", entries)
	}
}
