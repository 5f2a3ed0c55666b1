package report

import (
	"fmt"
	"time"
)

// ServiceMap is service_map.json: a host's containers in scope, their
// networks and published ports, as a graph and as a Mermaid drawing.
type ServiceMap struct {
	Host        string      `json:"host"`
	Scope       string      `json:"scope"` // allowlist or all
	GeneratedAt time.Time   `json:"generated_at"`
	Containers  []Container `json:"containers"`
	Networks    []Network   `json:"networks"`
	// OutOfScope counts the containers left out by the scope.
	OutOfScope int    `json:"containers_out_of_scope"`
	Graph      Graph  `json:"graph"`
	Mermaid    string `json:"mermaid"`
}

// Container is one container of a service map.
type Container struct {
	Name         string   `json:"name"`
	ID           string   `json:"id"` // short ID
	Image        string   `json:"image"`
	State        string   `json:"state"`
	Status       string   `json:"status"`
	Health       string   `json:"health,omitempty"`
	RestartCount int      `json:"restart_count"`
	Project      string   `json:"compose_project,omitempty"`
	Service      string   `json:"compose_service,omitempty"`
	Networks     []string `json:"networks"`
	Ports        []Port   `json:"ports"`
}

// Port is a container's port, published when PublicPort is not 0.
type Port struct {
	IP          string `json:"ip,omitempty"`
	PublicPort  uint16 `json:"public_port,omitempty"`
	PrivatePort uint16 `json:"private_port"`
	Type        string `json:"type"` // tcp, udp, sctp
}

// String renders the port as "private/proto", or "ip:public->private/proto"
// when published; the tasks key and label ports by it.
func (p Port) String() string { return p.Format("->") }

// Format renders the port as String does, with arrow between the public and
// the private port.
func (p Port) Format(arrow string) string {
	if p.PublicPort == 0 {
		return fmt.Sprintf("%d/%s", p.PrivatePort, p.Type)
	}
	ip := p.IP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%s:%d%s%d/%s", ip, p.PublicPort, arrow, p.PrivatePort, p.Type)
}

// Network is a network the containers of a service map are on.
type Network struct {
	Name   string `json:"name"`
	Driver string `json:"driver,omitempty"`
	// User is false for Docker's default networks (bridge, host, none).
	User    bool     `json:"user_defined"`
	Members []string `json:"members"` // container names
}

// Graph is a service map's graph of containers, user networks and
// published ports.
type Graph struct {
	Nodes []GraphNode `json:"nodes"`
	Edges []GraphEdge `json:"edges"`
}

// GraphNode is a node of a Graph: "container:<name>", "network:<name>" or
// "port:<port>".
type GraphNode struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"` // container, network, port
	Label string `json:"label"`
}

// GraphEdge is an edge of a Graph between two node IDs.
type GraphEdge struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Kind  string `json:"kind"` // shares_network, member_of, publishes
	Label string `json:"label,omitempty"`
}
