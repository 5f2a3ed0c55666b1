package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/report"
)

// mapFixture is a host with two compose projects, loose containers and
// several networks, some shared.
func mapFixture(loose, perProject int) report.ServiceMap {
	var d report.ServiceMap
	nets := map[string][]string{}
	add := func(name, project string, networks []string, ports int) {
		c := report.Container{Name: name, Image: "registry.example/" + name + ":1.2.3", State: "running", Project: project, Networks: networks}
		for i := 0; i < ports; i++ {
			c.Ports = append(c.Ports, report.Port{IP: "0.0.0.0", PublicPort: uint16(8000 + i), PrivatePort: 80, Type: "tcp"})
		}
		c.Ports = append(c.Ports, report.Port{PrivatePort: 9000, Type: "tcp"}) // not published
		d.Containers = append(d.Containers, c)
		for _, n := range networks {
			nets[n] = append(nets[n], name)
		}
	}
	for _, p := range []string{"shop", "analytics"} {
		for i := 0; i < perProject; i++ {
			add(fmt.Sprintf("%s-svc-%d", p, i), p, []string{p + "_default", "shared"}, i%6)
		}
	}
	for i := 0; i < loose; i++ {
		add(fmt.Sprintf("loose-%d", i), "", []string{"bridge", fmt.Sprintf("loose-net-%d", i/2)}, i%2)
	}
	for n, m := range nets {
		d.Networks = append(d.Networks, report.Network{Name: n, User: n != "bridge", Members: m})
	}
	return d
}

// The layout places every container and network once, inside the canvas,
// without overlaps; each container sits in its compose project's box; every
// container-network membership has an edge that ends on both.
func TestHostMapLayout(t *testing.T) {
	for _, tc := range []struct{ loose, perProject int }{{0, 0}, {1, 0}, {0, 1}, {3, 2}, {5, 9}, {12, 30}} {
		t.Run(fmt.Sprintf("loose%d_per%d", tc.loose, tc.perProject), func(t *testing.T) {
			doc := mapFixture(tc.loose, tc.perProject)
			l := layoutMap(doc)
			if len(l.Nodes) != len(doc.Containers) || len(l.Nets) != len(doc.Networks) {
				t.Fatalf("placed %d containers and %d networks, want %d and %d", len(l.Nodes), len(l.Nets), len(doc.Containers), len(doc.Networks))
			}
			canvas := box{mapMargin, mapMargin, l.Width - 2*mapMargin, l.Height - 2*mapMargin}
			var all []box
			seen := map[string]bool{}
			for _, n := range l.Nodes {
				if seen["c:"+n.Name] {
					t.Errorf("container %s placed twice", n.Name)
				}
				seen["c:"+n.Name] = true
				all = append(all, n.box)
			}
			for _, n := range l.Nets {
				seen["n:"+n.Name] = true
				all = append(all, n.box)
			}
			for _, c := range doc.Containers {
				if !seen["c:"+c.Name] {
					t.Errorf("container %s not placed", c.Name)
				}
			}
			for _, n := range doc.Networks {
				if !seen["n:"+n.Name] {
					t.Errorf("network %s not placed", n.Name)
				}
			}
			for i, a := range all {
				if !canvas.contains(a) {
					t.Errorf("node %+v outside the canvas %+v", a, canvas)
				}
				for _, b := range all[i+1:] {
					if a.overlaps(b) {
						t.Errorf("nodes overlap: %+v and %+v", a, b)
					}
				}
			}
			for i, g := range l.Groups {
				for _, h := range l.Groups[i+1:] {
					if g.overlaps(h.box) {
						t.Errorf("groups overlap: %+v and %+v", g, h)
					}
				}
				for _, n := range l.Nets {
					if g.overlaps(n.box) {
						t.Errorf("network %s overlaps group %s", n.Name, g.Label)
					}
				}
			}
			project := map[string]string{}
			for _, c := range doc.Containers {
				project[c.Name] = c.Project
			}
			groups := map[string]bool{}
			for _, n := range l.Nodes {
				g := l.Groups[n.Group]
				if !g.contains(n.box) {
					t.Errorf("container %s lies outside its group box", n.Name)
				}
				if want := project[n.Name]; g.Compose != (want != "") || (g.Compose && g.Label != want) {
					t.Errorf("container %s (project %q) is in group %q", n.Name, want, g.Label)
				}
				groups[g.Label] = true
			}
			if len(groups) != len(l.Groups) {
				t.Errorf("%d groups, %d used", len(l.Groups), len(groups))
			}
			members := 0
			for _, c := range doc.Containers {
				members += len(c.Networks)
			}
			if len(l.Edges) != members {
				t.Errorf("%d edges, want one per membership (%d)", len(l.Edges), members)
			}
			for _, e := range l.Edges {
				if !endsOn(l, e) {
					t.Errorf("edge %+v does not join a container's bottom to a network's top", e)
				}
			}
		})
	}
}

func endsOn(l mapLayout, e mapEdge) bool {
	from, to := false, false
	for _, n := range l.Nodes {
		from = from || (e.X1 == n.X+n.W/2 && e.Y1 == n.Y+n.H)
	}
	for _, n := range l.Nets {
		to = to || (e.X2 == n.X+n.W/2 && e.Y2 == n.Y)
	}
	return from && to
}

// Published ports label a node (at most three lines and a count); long
// names are shortened, the node keeps the full name for its link and title.
func TestHostMapNodeLabels(t *testing.T) {
	long := strings.Repeat("very-long-container-name-", 4)
	doc := report.ServiceMap{Containers: []report.Container{{Name: long, Image: "img", Ports: []report.Port{
		{IP: "127.0.0.1", PublicPort: 8080, PrivatePort: 80, Type: "tcp"},
		{PublicPort: 8081, PrivatePort: 81, Type: "tcp"},
		{PublicPort: 8082, PrivatePort: 82, Type: "udp"},
		{PublicPort: 8083, PrivatePort: 83, Type: "tcp"},
		{PublicPort: 8084, PrivatePort: 84, Type: "tcp"},
		{PrivatePort: 9000, Type: "tcp"},
	}}}}
	n := layoutMap(doc).Nodes[0]
	var lines []string
	for _, l := range n.Lines {
		lines = append(lines, l.Text)
	}
	want := []string{"127.0.0.1:8080→80/tcp", "0.0.0.0:8081→81/tcp", "0.0.0.0:8082→82/udp", "+2 more"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("port lines = %q, want %q", lines, want)
	}
	if n.Name != long || len([]rune(n.Label)) != nameChars || !strings.HasSuffix(n.Label, "…") {
		t.Errorf("name %q label %q", n.Name, n.Label)
	}
	if last := n.Lines[len(n.Lines)-1]; last.Y >= n.Y+n.H {
		t.Errorf("last port line at y=%d is below the node (y=%d h=%d)", last.Y, n.Y, n.H)
	}
}

// Fragment ids are safe and unique whatever the name.
func TestHostMapAnchors(t *testing.T) {
	used := map[string]bool{}
	a := anchorFor(`x"><img src=x>`, used)
	b := anchorFor(`x"><img_src=x>`, used)
	if strings.ContainsAny(a, `"<> =`) || a == b {
		t.Errorf("anchors %q and %q", a, b)
	}
}
