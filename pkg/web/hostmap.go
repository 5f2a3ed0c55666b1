package web

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/report"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// The service map page draws service_map's JSON artifact (report.ServiceMap)
// as an SVG laid out here, on the server: compose projects are boxes holding
// their containers, networks a row of nodes below them with an edge from
// each container to each of its networks, published ports labels on the
// container nodes. Each container node links to a details
// section of the page (#c-<name>), so it works without script.

// portArrow joins a published port's public and private sides on the page.
const portArrow = "→"

// Layout measures, in SVG user units.
const (
	mapMargin    = 16
	mapMaxWidth  = 1000 // groups wrap to a new shelf past this width
	nodeW        = 210
	nodeBaseH    = 46 // name and image lines
	portLineH    = 15
	maxPortLines = 3
	nodeGap      = 16
	groupPad     = 12
	groupHeader  = 24
	groupMaxCols = 4
	groupGap     = 20
	netW         = 180
	netH         = 34
	netGap       = 20
	netTop       = 70 // space between the groups and the network row, for edges
	nameChars    = 27 // what fits on a node line at the map's font size
	netChars     = 22
)

type box struct{ X, Y, W, H int }

func (b box) overlaps(o box) bool {
	return b.X < o.X+o.W && o.X < b.X+b.W && b.Y < o.Y+o.H && o.Y < b.Y+b.H
}

func (b box) contains(o box) bool {
	return o.X >= b.X && o.Y >= b.Y && o.X+o.W <= b.X+b.W && o.Y+o.H <= b.Y+b.H
}

// textLine is one line of text at a y position.
type textLine struct {
	Y    int
	Text string
}

type mapGroup struct {
	box
	Label   string // the compose project, or a note for containers outside any
	Compose bool
}

type mapNode struct {
	box
	Name   string
	Anchor string
	Label  string // the name, shortened to fit
	Image  string // shortened to fit
	State  string
	Lines  []textLine // published ports
	Group  int        // index into the layout's groups

	networks []string
}

// TX, NameY and ImageY place the node's text.
func (n mapNode) TX() int     { return n.X + 10 }
func (n mapNode) NameY() int  { return n.Y + 19 }
func (n mapNode) ImageY() int { return n.Y + 36 }

type mapNet struct {
	box
	Name    string
	Label   string
	Default bool // one of Docker's bridge, host, none
}

func (n mapNet) TX() int { return n.X + n.W/2 }
func (n mapNet) TY() int { return n.Y + n.H/2 + 4 }

// mapEdge is a cubic curve from a container's bottom to a network's top.
type mapEdge struct {
	X1, Y1, X2, Y2 int
	Default        bool
}

// Path is the edge's SVG path data (numbers only).
func (e mapEdge) Path() string {
	mid := (e.Y1 + e.Y2) / 2
	return fmt.Sprintf("M%d %d C%d %d %d %d %d %d", e.X1, e.Y1, e.X1, mid, e.X2, mid, e.X2, e.Y2)
}

type mapLayout struct {
	Width, Height int
	Groups        []mapGroup
	Nodes         []mapNode
	Nets          []mapNet
	Edges         []mapEdge
}

// shorten cuts s to n runes with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// anchorFor makes a fragment id from a container name: Docker names are
// [a-zA-Z0-9_.-], anything else becomes "_", and a clash gets a suffix.
func anchorFor(name string, used map[string]bool) string {
	var b strings.Builder
	b.WriteString("c-")
	for _, r := range name {
		if r < 128 && (r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	a := b.String()
	for i := 2; used[a]; i++ {
		a = fmt.Sprintf("%s-%d", b.String(), i)
	}
	used[a] = true
	return a
}

func nodeHeight(c report.Container) int {
	n := published(c)
	if n > maxPortLines {
		n = maxPortLines + 1 // "+k more"
	}
	return nodeBaseH + n*portLineH
}

func published(c report.Container) int {
	n := 0
	for _, p := range c.Ports {
		if p.PublicPort != 0 {
			n++
		}
	}
	return n
}

// containerView is one container's details section.
type containerView struct {
	report.Container
	Anchor string
}

// PortList is every port, published ones as ip:public→private/proto.
func (c containerView) PortList() []string {
	out := make([]string, 0, len(c.Ports))
	for _, p := range c.Ports {
		out = append(out, p.Format(portArrow))
	}
	return out
}

type hostMapPage struct {
	Host       hostRow
	Report     *store.HostReport
	Doc        report.ServiceMap
	Layout     mapLayout
	Containers []containerView
	Broken     bool // the job stored no readable map
}

// hostMap is /hosts/{id}/map: the latest service map of the host.
func (u *UI) hostMap(c echo.Context) error {
	h, err := u.loadHost(c)
	if err != nil {
		return err
	}
	p := hostMapPage{Host: hostRow{*h}}
	if p.Report, err = u.st.LatestHostReport(c.Request().Context(), h.ID, "service_map"); err != nil {
		return err
	}
	if p.Report != nil {
		if p.Report.Document == nil || json.Unmarshal(p.Report.Document, &p.Doc) != nil {
			p.Broken = true
		} else {
			p.Layout = layoutMap(p.Doc)
			anchors := map[string]string{}
			for _, n := range p.Layout.Nodes {
				anchors[n.Name] = n.Anchor
			}
			for _, ct := range p.Doc.Containers {
				p.Containers = append(p.Containers, containerView{ct, anchors[ct.Name]})
			}
			sort.Slice(p.Containers, func(i, j int) bool { return p.Containers[i].Name < p.Containers[j].Name })
		}
	}
	return u.render(c, "host_map", "Service map of "+h.Name, p)
}
