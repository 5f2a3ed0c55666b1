package tasks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/report"
)

// smDoc decodes service_map.json, with a lookup by container name.
type smDoc struct{ report.ServiceMap }

func (d smDoc) container(name string) *report.Container {
	for i := range d.Containers {
		if d.Containers[i].Name == name {
			return &d.Containers[i]
		}
	}
	return nil
}

// TestServiceMapOnRealContainers: both containers, their shared user
// network, the published port and the edge between them (scope all); only
// the allow-listed one under the default scope.
func TestServiceMapOnRealContainers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := newTaskDB(t, "service_map", `{"scope": "all"}`)
	web := unique("cb-web")
	db := unique("cb-db")
	f.start(t, web, nil, true)
	f.start(t, db, []string{"LOGGER_SECRET=x"}, false)
	d.allow(t, &d.host.ID, web)

	res := d.run(t, ServiceMap(testPool), &d.host, d.job)
	var doc smDoc
	if err := json.Unmarshal(artifact(t, res, "service_map.json"), &doc); err != nil {
		t.Fatal(err)
	}
	w, b := doc.container(web), doc.container(db)
	if w == nil || b == nil {
		t.Fatalf("service map lacks %s or %s: %+v", web, db, doc.Containers)
	}
	if w.State != "running" || w.Project != "cbtest" || w.Service != web || w.Image != imageTag {
		t.Errorf("web metadata = %+v", w)
	}
	if len(w.Ports) != 1 || w.Ports[0].PrivatePort != 8080 || w.Ports[0].PublicPort == 0 || w.Ports[0].Type != "tcp" {
		t.Errorf("web ports = %+v, want 8080/tcp published", w.Ports)
	}
	var net *report.Network
	for i := range doc.Networks {
		if doc.Networks[i].Name == f.network {
			net = &doc.Networks[i]
		}
	}
	if net == nil || !net.User || len(net.Members) != 2 {
		t.Fatalf("network %s = %+v, want a user network with both containers", f.network, net)
	}
	edge := false
	for _, e := range doc.Graph.Edges {
		if e.Kind == "shares_network" && e.Label == f.network &&
			((e.From == "container:"+web && e.To == "container:"+db) || (e.From == "container:"+db && e.To == "container:"+web)) {
			edge = true
		}
	}
	if !edge {
		t.Errorf("no shares_network edge between %s and %s: %+v", web, db, doc.Graph.Edges)
	}
	for _, want := range []string{"```mermaid", "graph LR", web, db, "net: " + f.network, "->8080/tcp"} {
		if !strings.Contains(res.ReportMarkdown, want) {
			t.Errorf("report lacks %q:\n%s", want, res.ReportMarkdown)
		}
	}

	// Default scope: the allow-listed container only.
	res2 := d.run(t, ServiceMap(testPool), &d.host, newJob(t, d.st, d.host.ID, "service_map", ""))
	var doc2 smDoc
	if err := json.Unmarshal(artifact(t, res2, "service_map.json"), &doc2); err != nil {
		t.Fatal(err)
	}
	if doc2.container(web) == nil || doc2.container(db) != nil {
		t.Errorf("allowlist scope containers = %+v, want %s and not %s", doc2.Containers, web, db)
	}
	assertNotLeaked(t, res2, db)
}
