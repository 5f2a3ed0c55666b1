package containerspec

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestImageAllowList(t *testing.T) {
	p := Policy{Images: []string{"postgres:16*", "registry.lan/ops/*", "busybox:latest"}}
	for ref, want := range map[string]bool{"postgres:16-alpine": true, "postgres:15": false, "busybox": true,
		"registry.lan/ops/dump:1": true, "registry.lan/other/x:1": false, "alpine": false} {
		if got := p.ImageAllowed(ref); got != want {
			t.Errorf("%s: allowed = %v, want %v", ref, got, want)
		}
	}
	if (Policy{}).ImageAllowed("anything") {
		t.Error("an empty allow-list allows an image")
	}
	if CheckPatterns([]string{"[bad"}) == nil || CheckPatterns([]string{"ok/*"}) != nil {
		t.Error("pattern check")
	}
}

func TestMountsAllowed(t *testing.T) {
	p := Policy{Images: []string{"*"}, Mounts: []string{"pgdumps", "/srv/backups"}}
	ok := &Spec{Image: "x", Network: "none", Pull: PullNever, Mounts: []Mount{{Source: "pgdumps", Target: "/b"},
		{Source: "/srv/backups/db", Target: "/c"}}}
	if errs := p.Check(ok, "c"); errs != nil {
		t.Fatal(errs)
	}
	bad := &Spec{Image: "x", Network: "none", Pull: PullNever, Mounts: []Mount{{Source: "/srv/backupsX", Target: "/b"}}}
	if errs := p.Check(bad, "c"); len(errs["c.mounts[0].source"]) == 0 {
		t.Fatalf("a sibling path passed: %v", errs)
	}
}

func TestForJobOverridesOnlyCommandAndEnv(t *testing.T) {
	def, errs := Parse(json.RawMessage(`{"image": "x", "command": ["a"]}`), "d")
	if errs != nil {
		t.Fatal(errs)
	}
	sp, err := ForJob(def, map[string]string{"S": "1", "T": "2"}, json.RawMessage(`{"image": "x", "command": ["b"], "env": {"T": "3"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if sp.Command[0] != "b" || sp.Env["S"] != "1" || sp.Env["T"] != "3" {
		t.Fatalf("spec %+v", sp)
	}
	if _, err := ForJob(def, nil, json.RawMessage(`{"image": "y"}`)); err == nil || !strings.Contains(err.Error(), "only command and env") {
		t.Fatalf("image override: %v", err)
	}
	if _, err := ForJob(def, nil, json.RawMessage(`{"image": "x", "privileged": true}`)); err == nil {
		t.Fatal("privileged override passed")
	}
}

func TestParseNamesEveryBadField(t *testing.T) {
	_, errs := Parse(json.RawMessage(`{"image": 3, "foo": 1, "bar": 2}`), "d")
	for _, f := range []string{"d.image", "d.foo", "d.bar"} {
		if len(errs[f]) == 0 {
			t.Errorf("%s not named: %v", f, errs)
		}
	}
	if _, errs := Parse(json.RawMessage(`[]`), "d"); len(errs["d"]) == 0 {
		t.Error("an array passed")
	}
	if !strings.Contains(errs.Error(), "d.foo") {
		t.Error(errs.Error())
	}
}
