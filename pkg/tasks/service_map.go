package tasks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
)

// ServiceMapConfig is service_map's task config.
type ServiceMapConfig struct {
	// Scope: "allowlist" (default) maps allow-listed containers only; "all"
	// maps every container's metadata (never its logs).
	Scope string `json:"scope"`
}

// Docker's default networks: sharing them does not make two services talk.
var defaultNetworks = map[string]bool{"bridge": true, "host": true, "none": true}

type smContainer struct {
	Name         string   `json:"name"`
	ID           string   `json:"id"`
	Image        string   `json:"image"`
	State        string   `json:"state"`
	Status       string   `json:"status"`
	Health       string   `json:"health,omitempty"`
	RestartCount int      `json:"restart_count"`
	Project      string   `json:"compose_project,omitempty"`
	Service      string   `json:"compose_service,omitempty"`
	Networks     []string `json:"networks"`
	Ports        []smPort `json:"ports"`
}

type smPort struct {
	IP          string `json:"ip,omitempty"`
	PublicPort  uint16 `json:"public_port,omitempty"`
	PrivatePort uint16 `json:"private_port"`
	Type        string `json:"type"`
}

func (p smPort) String() string {
	if p.PublicPort == 0 {
		return fmt.Sprintf("%d/%s", p.PrivatePort, p.Type)
	}
	ip := p.IP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%s:%d->%d/%s", ip, p.PublicPort, p.PrivatePort, p.Type)
}

type smNetwork struct {
	Name    string   `json:"name"`
	Driver  string   `json:"driver,omitempty"`
	User    bool     `json:"user_defined"`
	Members []string `json:"members"`
}

type smGraphNode struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"` // container, network, port
	Label string `json:"label"`
}

type smGraphEdge struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Kind  string `json:"kind"` // shares_network, member_of, publishes
	Label string `json:"label,omitempty"`
}

type serviceMap struct {
	Host        string        `json:"host"`
	Scope       string        `json:"scope"`
	GeneratedAt time.Time     `json:"generated_at"`
	Containers  []smContainer `json:"containers"`
	Networks    []smNetwork   `json:"networks"`
	OutOfScope  int           `json:"containers_out_of_scope"`
	Graph       struct {
		Nodes []smGraphNode `json:"nodes"`
		Edges []smGraphEdge `json:"edges"`
	} `json:"graph"`
	Mermaid string `json:"mermaid"`
}

// ServiceMap maps the host's containers in scope, their networks and
// published ports into a graph.
func ServiceMap(pool EngineClients) Task {
	return TaskFunc(func(ctx context.Context, env Env) (*Result, error) {
		cfg := ServiceMapConfig{Scope: ScopeAllowlist}
		if err := decodeConfig(env, &cfg); err != nil {
			return nil, err
		}
		if err := checkScope("service_map", cfg.Scope); err != nil {
			return nil, err
		}
		cli, err := hostClient(pool, env)
		if err != nil {
			return nil, err
		}
		containers, outOfScope, err := scopedContainers(ctx, cli, env, cfg.Scope)
		if err != nil {
			return nil, err
		}
		sm := &serviceMap{Host: env.Host.Name, Scope: cfg.Scope, GeneratedAt: time.Now().UTC(), OutOfScope: outOfScope}
		nets := map[string]*smNetwork{}
		for _, c := range containers {
			smc := smContainer{
				Name: containerName(c), ID: shortID(c.ID), Image: c.Image, State: c.State, Status: c.Status,
				Project: c.Labels["com.docker.compose.project"], Service: c.Labels["com.docker.compose.service"],
			}
			info, err := cli.ContainerInspect(ctx, c.ID)
			switch {
			case err == nil:
				smc.RestartCount = info.RestartCount
				if info.State != nil && info.State.Health != nil {
					smc.Health = info.State.Health.Status
				}
			case isNotFound(err):
				continue // removed since the list
			default:
				return nil, dockerhost.Classify(env.Host, fmt.Sprintf("inspect container %q", smc.Name), err)
			}
			if c.NetworkSettings != nil {
				for name := range c.NetworkSettings.Networks {
					smc.Networks = append(smc.Networks, name)
					n := nets[name]
					if n == nil {
						n = &smNetwork{Name: name, User: !defaultNetworks[name]}
						nets[name] = n
					}
					n.Members = append(n.Members, smc.Name)
				}
			}
			sort.Strings(smc.Networks)
			smc.Ports = ports(c.Ports)
			sm.Containers = append(sm.Containers, smc)
		}
		// Only the networks of containers in scope, so a network's existence
		// tells nothing about containers outside it.
		if list, err := cli.NetworkList(ctx, networkListOptions()); err == nil {
			for _, nw := range list {
				if n := nets[nw.Name]; n != nil {
					n.Driver = nw.Driver
				}
			}
		}
		for _, n := range nets {
			sort.Strings(n.Members)
			sm.Networks = append(sm.Networks, *n)
		}
		sort.Slice(sm.Networks, func(i, j int) bool { return sm.Networks[i].Name < sm.Networks[j].Name })
		sm.buildGraph()
		return sm.result()
	})
}

// ports lists a container's ports, IPv4 and IPv6 bindings of one port once.
func ports(ps []container.Port) []smPort {
	seen := map[string]bool{}
	var out []smPort
	for _, p := range ps {
		sp := smPort{IP: p.IP, PublicPort: p.PublicPort, PrivatePort: p.PrivatePort, Type: p.Type}
		if sp.IP == "::" {
			sp.IP = "0.0.0.0"
		}
		k := sp.String()
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, sp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func (sm *serviceMap) buildGraph() {
	g := &sm.Graph
	for _, c := range sm.Containers {
		g.Nodes = append(g.Nodes, smGraphNode{ID: "container:" + c.Name, Kind: "container", Label: c.Name})
		for _, p := range c.Ports {
			if p.PublicPort == 0 {
				continue
			}
			id := "port:" + p.String()
			g.Nodes = append(g.Nodes, smGraphNode{ID: id, Kind: "port", Label: p.String()})
			g.Edges = append(g.Edges, smGraphEdge{From: id, To: "container:" + c.Name, Kind: "publishes"})
		}
	}
	for _, n := range sm.Networks {
		if !n.User {
			continue
		}
		g.Nodes = append(g.Nodes, smGraphNode{ID: "network:" + n.Name, Kind: "network", Label: n.Name})
		for _, m := range n.Members {
			g.Edges = append(g.Edges, smGraphEdge{From: "container:" + m, To: "network:" + n.Name, Kind: "member_of"})
		}
		for i := 0; i < len(n.Members); i++ {
			for j := i + 1; j < len(n.Members); j++ {
				g.Edges = append(g.Edges, smGraphEdge{From: "container:" + n.Members[i], To: "container:" + n.Members[j], Kind: "shares_network", Label: n.Name})
			}
		}
	}
	sm.Mermaid = sm.mermaid()
}

// mermaid draws containers (with image), user networks as stadium nodes and
// published ports as flags.
func (sm *serviceMap) mermaid() string {
	var b strings.Builder
	b.WriteString("graph LR\n")
	ids := map[string]string{}
	id := func(key string) string {
		if v, ok := ids[key]; ok {
			return v
		}
		v := fmt.Sprintf("n%d", len(ids))
		ids[key] = v
		return v
	}
	for _, c := range sm.Containers {
		fmt.Fprintf(&b, "  %s[\"%s<br/>%s<br/>%s\"]\n", id("container:"+c.Name), mermaidText(c.Name), mermaidText(c.Image), mermaidText(c.State))
	}
	for _, n := range sm.Networks {
		if n.User {
			fmt.Fprintf(&b, "  %s([\"net: %s\"])\n", id("network:"+n.Name), mermaidText(n.Name))
		}
	}
	for _, e := range sm.Graph.Edges {
		switch e.Kind {
		case "member_of":
			fmt.Fprintf(&b, "  %s --- %s\n", id(e.From), id(e.To))
		case "publishes":
			fmt.Fprintf(&b, "  %s>\"%s\"] --> %s\n", id(e.From), mermaidText(strings.TrimPrefix(e.From, "port:")), id(e.To))
		}
	}
	return b.String()
}

func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;").Replace(s)
}

func (sm *serviceMap) result() (*Result, error) {
	published := 0
	for _, c := range sm.Containers {
		for _, p := range c.Ports {
			if p.PublicPort != 0 {
				published++
			}
		}
	}
	userNets, shares := 0, 0
	for _, n := range sm.Networks {
		if n.User {
			userNets++
		}
	}
	for _, e := range sm.Graph.Edges {
		if e.Kind == "shares_network" {
			shares++
		}
	}
	summary := fmt.Sprintf("%d container(s), %d user network(s), %d published port(s), %d link(s) on %s",
		len(sm.Containers), userNets, published, shares, sm.Host)
	md := sm.markdown(summary)
	js, err := jsonArtifact("service_map", sm)
	if err != nil {
		return nil, err
	}
	return &Result{
		Summary: summary, ReportMarkdown: md, Artifacts: []Artifact{markdownArtifact(md), js},
		Data: map[string]any{"summary": summary, "host": sm.Host, "containers": len(sm.Containers),
			"user_networks": userNets, "published_ports": published, "links": shares,
			"containers_out_of_scope": sm.OutOfScope},
	}, nil
}

func (sm *serviceMap) markdown(summary string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Service map — %s\n\n%s (scope `%s`", sm.Host, summary, sm.Scope)
	if sm.OutOfScope > 0 {
		fmt.Fprintf(&b, "; %d container(s) not on the allow-list left out", sm.OutOfScope)
	}
	b.WriteString(").\n\n```mermaid\n" + sm.Mermaid + "```\n\n")
	if len(sm.Containers) > 0 {
		b.WriteString("| container | image | state | health | restarts | compose | networks | ports |\n|---|---|---|---|---:|---|---|---|\n")
		for _, c := range sm.Containers {
			compose := ""
			if c.Project != "" || c.Service != "" {
				compose = c.Project + "/" + c.Service
			}
			var ps []string
			for _, p := range c.Ports {
				ps = append(ps, p.String())
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %d | %s | %s | %s |\n", mdEscape(c.Name), mdEscape(c.Image), c.State,
				c.Health, c.RestartCount, mdEscape(compose), mdEscape(strings.Join(c.Networks, ", ")), strings.Join(ps, ", "))
		}
		b.WriteString("\n")
	}
	if len(sm.Networks) > 0 {
		b.WriteString("| network | driver | members |\n|---|---|---|\n")
		for _, n := range sm.Networks {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", mdEscape(n.Name), n.Driver, mdEscape(strings.Join(n.Members, ", ")))
		}
	}
	return b.String()
}
