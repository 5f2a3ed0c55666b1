package web

import (
	"fmt"
	"sort"

	"github.com/cyberbrain/cyberbrain/pkg/report"
)

// layoutMap places the map: one box per compose project (containers of no
// project last, in a box of their own), packed left to right in shelves;
// inside a box the containers in a grid; the networks in rows below, each
// joined by an edge to its members.
func layoutMap(doc report.ServiceMap) mapLayout {
	var lay mapLayout
	right, bottom := lay.placeGroups(doc.Containers)
	right, bottom = lay.placeNetworks(doc.Networks, right, bottom)
	lay.connect(doc.Containers)
	lay.Width, lay.Height = right+mapMargin, bottom+mapMargin
	return lay
}

// byProject groups containers by compose project, projects by name with
// the no-project group last, containers by name.
func byProject(cs []report.Container) ([]string, map[string][]report.Container) {
	groups := map[string][]report.Container{}
	for _, c := range cs {
		groups[c.Project] = append(groups[c.Project], c)
	}
	projects := make([]string, 0, len(groups))
	for p, members := range groups {
		projects = append(projects, p)
		sort.Slice(members, func(i, j int) bool { return members[i].Name < members[j].Name })
	}
	sort.Slice(projects, func(i, j int) bool {
		if (projects[i] == "") != (projects[j] == "") {
			return projects[j] == "" // the no-project box last
		}
		return projects[i] < projects[j]
	})
	return projects, groups
}

// placeGroups packs the project boxes in shelves and returns the right and
// bottom edges used.
func (lay *mapLayout) placeGroups(cs []report.Container) (right, bottom int) {
	projects, groups := byProject(cs)
	used := map[string]bool{}
	x, y, shelfH := mapMargin, mapMargin, 0
	right = mapMargin
	for _, p := range projects {
		members := groups[p]
		cols := min(len(members), groupMaxCols)
		gw := cols*(nodeW+nodeGap) - nodeGap + 2*groupPad
		if x > mapMargin && x+gw > mapMaxWidth {
			x, y, shelfH = mapMargin, y+shelfH+groupGap, 0
		}
		g := mapGroup{box: box{X: x, Y: y, W: gw}, Label: p, Compose: p != ""}
		if p == "" {
			g.Label = "not in a compose project"
		}
		g.H = lay.placeNodes(members, cols, x, y, len(lay.Groups), used) - y
		lay.Groups = append(lay.Groups, g)
		x += gw + groupGap
		shelfH = max(shelfH, g.H)
		right = max(right, g.X+g.W)
	}
	if len(lay.Groups) == 0 {
		return right, mapMargin
	}
	return right, y + shelfH
}

// placeNodes lays a group's containers out in a grid of cols columns inside
// the box at (x, y) and returns the box's bottom edge.
func (lay *mapLayout) placeNodes(cs []report.Container, cols, x, y, group int, used map[string]bool) int {
	ny := y + groupHeader
	for row := 0; row*cols < len(cs); row++ {
		rowH := 0
		for col := 0; col < cols && row*cols+col < len(cs); col++ {
			c := cs[row*cols+col]
			n := mapNode{box: box{X: x + groupPad + col*(nodeW+nodeGap), Y: ny, W: nodeW, H: nodeHeight(c)},
				Name: c.Name, Anchor: anchorFor(c.Name, used), Label: shorten(c.Name, nameChars),
				Image: shorten(c.Image, nameChars), State: c.State, Group: group, networks: c.Networks}
			n.Lines = portLines(c, n.Y+52)
			rowH = max(rowH, n.H)
			lay.Nodes = append(lay.Nodes, n)
		}
		ny += rowH + nodeGap
	}
	return ny - nodeGap + groupPad
}

// portLines labels a node with its published ports, at most maxPortLines
// and then "+N more", the first at y.
func portLines(c report.Container, y int) []textLine {
	var out []textLine
	for _, pt := range c.Ports {
		if pt.PublicPort == 0 {
			continue
		}
		if len(out) == maxPortLines {
			return append(out, textLine{y, fmt.Sprintf("+%d more", published(c)-maxPortLines)})
		}
		out = append(out, textLine{y, shorten(pt.Format(portArrow), nameChars)})
		y += portLineH
	}
	return out
}

// placeNetworks puts the networks in a row (wrapping) below the groups,
// each under the middle of its members (the mean x of their nodes) so edges
// cross less, ties in name order; it returns the new right and bottom edges.
func (lay *mapLayout) placeNetworks(networks []report.Network, right, bottom int) (int, int) {
	at := lay.memberMiddles()
	nets := append([]report.Network(nil), networks...)
	sort.Slice(nets, func(i, j int) bool {
		if at[nets[i].Name] != at[nets[j].Name] {
			return at[nets[i].Name] < at[nets[j].Name]
		}
		return nets[i].Name < nets[j].Name
	})
	nx, ny := mapMargin, bottom+netTop
	if len(lay.Groups) == 0 {
		ny = mapMargin
	}
	span := max(right, mapMaxWidth)
	perRow := max(1, (span-2*mapMargin+netGap)/(netW+netGap))
	xs := underMembers(nets, at, perRow, span)
	for i, n := range nets {
		if xs != nil {
			nx = xs[i]
		} else if i > 0 && i%perRow == 0 {
			nx, ny = mapMargin, ny+netH+netGap
		}
		lay.Nets = append(lay.Nets, mapNet{box: box{X: nx, Y: ny, W: netW, H: netH}, Name: n.Name,
			Label: shorten(n.Name, netChars), Default: !n.User})
		right = max(right, nx+netW)
		bottom = ny + netH
		nx += netW + netGap
	}
	return right, bottom
}

// memberMiddles is, per network, the mean x of its members' node centres.
func (lay *mapLayout) memberMiddles() map[string]float64 {
	sum, count := map[string]int{}, map[string]int{}
	for _, n := range lay.Nodes {
		for _, net := range n.networks {
			sum[net] += n.X + n.W/2
			count[net]++
		}
	}
	at := make(map[string]float64, len(count))
	for net, k := range count {
		at[net] = float64(sum[net]) / float64(k)
	}
	return at
}

// underMembers places networks that fit on one row each under its members'
// middle, pushed right only as far as the previous one needs (then shifted
// back left if the row ran past the canvas), so edges stay short and steep.
// Nil when they do not fit on one row.
func underMembers(nets []report.Network, at map[string]float64, perRow, span int) []int {
	if len(nets) > perRow {
		return nil
	}
	xs := make([]int, len(nets))
	prev := mapMargin - netGap
	for i, n := range nets {
		want := mapMargin
		if c, ok := at[n.Name]; ok {
			want = int(c) - netW/2
		}
		xs[i] = max(want, prev+netGap, mapMargin)
		prev = xs[i] + netW
	}
	if over := prev - (span - mapMargin); over > 0 {
		for i := len(xs) - 1; i >= 0; i-- {
			limit := span - mapMargin - (len(xs)-i)*(netW+netGap) + netGap
			xs[i] = min(xs[i], limit)
		}
	}
	return xs
}

// connect draws an edge from each container to each of its networks.
func (lay *mapLayout) connect(cs []report.Container) {
	netAt := map[string]int{}
	for i, n := range lay.Nets {
		netAt[n.Name] = i
	}
	byName := map[string]int{}
	for i, n := range lay.Nodes {
		byName[n.Name] = i
	}
	for _, c := range cs {
		n := lay.Nodes[byName[c.Name]]
		for _, name := range c.Networks {
			ni, ok := netAt[name]
			if !ok {
				continue
			}
			t := lay.Nets[ni]
			lay.Edges = append(lay.Edges, mapEdge{X1: n.X + n.W/2, Y1: n.Y + n.H, X2: t.X + t.W/2, Y2: t.Y, Default: t.Default})
		}
	}
}
