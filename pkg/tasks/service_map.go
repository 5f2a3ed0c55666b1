package tasks

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/report"
)

// ServiceMapConfig is service_map's task config.
type ServiceMapConfig struct {
	// Scope: "allowlist" (default) maps allow-listed containers only; "all"
	// maps every container's metadata (never its logs).
	Scope string `json:"scope"`
}

// Docker's default networks: sharing them does not make two services talk.
var defaultNetworks = map[string]bool{"bridge": true, "host": true, "none": true}

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
		sm := &report.ServiceMap{Host: env.Host.Name, Scope: cfg.Scope, GeneratedAt: time.Now().UTC(), OutOfScope: outOfScope}
		nets := map[string]*report.Network{}
		for _, c := range containers {
			smc := report.Container{
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
						n = &report.Network{Name: name, User: !defaultNetworks[name]}
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
		serviceMapGraph(sm)
		return serviceMapResult(sm)
	})
}

// ports lists a container's ports, IPv4 and IPv6 bindings of one port once.
func ports(ps []container.Port) []report.Port {
	seen := map[string]bool{}
	var out []report.Port
	for _, p := range ps {
		sp := report.Port{IP: p.IP, PublicPort: p.PublicPort, PrivatePort: p.PrivatePort, Type: p.Type}
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

// serviceMapGraph fills the graph and the Mermaid drawing of sm.
func serviceMapGraph(sm *report.ServiceMap) {
	g := &sm.Graph
	for _, c := range sm.Containers {
		g.Nodes = append(g.Nodes, report.GraphNode{ID: "container:" + c.Name, Kind: "container", Label: c.Name})
		for _, p := range c.Ports {
			if p.PublicPort == 0 {
				continue
			}
			id := "port:" + p.String()
			g.Nodes = append(g.Nodes, report.GraphNode{ID: id, Kind: "port", Label: p.String()})
			g.Edges = append(g.Edges, report.GraphEdge{From: id, To: "container:" + c.Name, Kind: "publishes"})
		}
	}
	for _, n := range sm.Networks {
		if !n.User {
			continue
		}
		g.Nodes = append(g.Nodes, report.GraphNode{ID: "network:" + n.Name, Kind: "network", Label: n.Name})
		for _, m := range n.Members {
			g.Edges = append(g.Edges, report.GraphEdge{From: "container:" + m, To: "network:" + n.Name, Kind: "member_of"})
		}
		for i := 0; i < len(n.Members); i++ {
			for j := i + 1; j < len(n.Members); j++ {
				g.Edges = append(g.Edges, report.GraphEdge{From: "container:" + n.Members[i], To: "container:" + n.Members[j], Kind: "shares_network", Label: n.Name})
			}
		}
	}
	sm.Mermaid = serviceMapMermaid(sm)
}

// serviceMapMermaid draws containers (with image), user networks as stadium nodes and
// published ports as flags.
func serviceMapMermaid(sm *report.ServiceMap) string {
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

// serviceMapResult is the task's result: summary, report and the JSON document.
func serviceMapResult(sm *report.ServiceMap) (*Result, error) {
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
	md := serviceMapMarkdown(sm, summary)
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

func serviceMapMarkdown(sm *report.ServiceMap, summary string) string {
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
