package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// addNetwork creates another user network for the fixture's containers.
func (f *fixture) addNetwork(t *testing.T) string {
	t.Helper()
	name := unique("cb-net2")
	if _, err := f.cli.NetworkCreate(context.Background(), name, network.CreateOptions{Driver: "bridge"}); err != nil {
		t.Fatalf("create network: %v", err)
	}
	t.Cleanup(func() { _ = f.cli.NetworkRemove(context.Background(), name) })
	return name
}

// TestServiceMapTopology on a real engine: three services over two user
// networks (front—mid on one, mid—back on the other), a stopped container
// on no network, and a container off the allow-list sharing front's network. The map has
// exactly the shares_network edges the networks imply, counts what users
// read in the summary, and says nothing of the outsider but that it exists.
func TestServiceMapTopology(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := newTaskDB(t, "service_map", "")
	ctx := context.Background()
	net2 := f.addNetwork(t)
	front, mid, back, idle, outsider := unique("cb-front"), unique("cb-mid"), unique("cb-back"), unique("cb-idle"), unique("cb-outsider")
	f.start(t, front, nil, true)
	midID := f.start(t, mid, nil, false)
	if err := f.cli.NetworkConnect(ctx, net2, midID, nil); err != nil {
		t.Fatalf("connect %s to %s: %v", mid, net2, err)
	}
	backID := f.start(t, back, nil, false)
	if err := f.cli.NetworkConnect(ctx, net2, backID, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.cli.NetworkDisconnect(ctx, f.network, backID, true); err != nil {
		t.Fatal(err)
	}
	idleID := f.start(t, idle, nil, false)
	if err := f.cli.NetworkDisconnect(ctx, f.network, idleID, true); err != nil {
		t.Fatal(err)
	}
	if err := f.cli.ContainerStop(ctx, idleID, container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	f.start(t, outsider, []string{"LOGGER_SECRET=x"}, false)
	for _, n := range []string{front, mid, idle} {
		d.allow(t, &d.host.ID, n)
	}
	// back is allow-listed by an id prefix, the outsider only by a disabled entry.
	if err := testenvExec(t, d, `INSERT INTO container_allowlist (worker_host_id, container_id, tags, enabled) VALUES (?, ?, '[]', true)`, d.host.ID, backID[:12]); err != nil {
		t.Fatal(err)
	}
	if err := testenvExec(t, d, `INSERT INTO container_allowlist (worker_host_id, container_name, tags, enabled) VALUES (?, ?, '[]', false)`, d.host.ID, outsider); err != nil {
		t.Fatal(err)
	}

	res := d.run(t, ServiceMap(testPool), &d.host, d.job)
	var doc smDoc
	if err := json.Unmarshal(artifact(t, res, "service_map.json"), &doc); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range doc.Containers {
		names = append(names, c.Name)
	}
	want := []string{front, mid, back, idle}
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("containers = %v, want %v in name order", names, want)
	}
	if c := doc.container(idle); c.State != "exited" || len(c.Networks) != 0 {
		t.Errorf("idle = %+v, want exited, on no network", c)
	}
	if c := doc.container(mid); strings.Join(c.Networks, ",") != strings.Join(sorted(f.network, net2), ",") {
		t.Errorf("mid networks = %v, want both", c.Networks)
	}

	members := map[string]string{}
	for _, n := range doc.Networks {
		members[n.Name] = strings.Join(n.Members, ",")
		if n.Name == f.network || n.Name == net2 {
			if !n.User || n.Driver != "bridge" {
				t.Errorf("network %s = %+v, want a user bridge network", n.Name, n)
			}
		}
	}
	if members[f.network] != strings.Join(sorted(front, mid), ",") || members[net2] != strings.Join(sorted(mid, back), ",") {
		t.Errorf("network members = %v", members)
	}

	var shares []string
	kinds := map[string]int{}
	for _, e := range doc.Graph.Edges {
		kinds[e.Kind]++
		if e.Kind == "shares_network" {
			pair := sorted(strings.TrimPrefix(e.From, "container:"), strings.TrimPrefix(e.To, "container:"))
			shares = append(shares, fmt.Sprintf("%s-%s@%s", pair[0], pair[1], e.Label))
		}
	}
	sort.Strings(shares)
	p1, p2 := sorted(front, mid), sorted(mid, back)
	wantShares := []string{fmt.Sprintf("%s-%s@%s", p1[0], p1[1], f.network), fmt.Sprintf("%s-%s@%s", p2[0], p2[1], net2)}
	sort.Strings(wantShares)
	if strings.Join(shares, " ") != strings.Join(wantShares, " ") {
		t.Errorf("shares_network edges = %v, want %v", shares, wantShares)
	}
	if kinds["member_of"] != 4 || kinds["publishes"] != 1 {
		t.Errorf("edge kinds = %v, want 4 member_of and 1 publishes", kinds)
	}
	for _, nd := range doc.Graph.Nodes {
		if nd.Kind == "network" && (nd.Label == "bridge" || nd.Label == "host" || nd.Label == "none") {
			t.Errorf("default network %s drawn as a node", nd.Label)
		}
	}

	for k, v := range map[string]any{"containers": 4, "user_networks": 2, "published_ports": 1, "links": 2} {
		if res.Data[k] != v {
			t.Errorf("data[%s] = %v, want %v", k, res.Data[k], v)
		}
	}
	if n, _ := res.Data["containers_out_of_scope"].(int); n < 1 {
		t.Errorf("containers_out_of_scope = %v, want the outsider counted", res.Data["containers_out_of_scope"])
	}
	md := res.ReportMarkdown
	for _, want := range []string{
		"## Service map — local\n\n4 container(s), 2 user network(s), 1 published port(s), 2 link(s) on local (scope `allowlist`;",
		"container(s) not on the allow-list left out).",
		"| container | image | state | health | restarts | compose | networks | ports |",
		"| network | driver | members |",
		fmt.Sprintf("| %s | bridge | %s |", f.network, strings.Join(sorted(front, mid), ", ")),
		"cbtest/" + front,
		"<br/>exited\"]",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	assertNotLeaked(t, res, outsider)
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

func testenvExec(t *testing.T, d *taskDB, q string, args ...any) error {
	t.Helper()
	return testenv.SQL(t, d.st).Exec(q, args...).Error
}
