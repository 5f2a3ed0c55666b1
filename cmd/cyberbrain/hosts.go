package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

func newHostsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "hosts",
		Short: "List worker hosts and their last health check",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			list, err := client.List(c.Context(), cl, client.Hosts, nil)
			if err != nil {
				return err
			}
			raw, err := json.Marshal(list)
			if err != nil {
				return fmt.Errorf("encode hosts: %w", err)
			}
			if list == nil {
				raw = []byte("[]")
			}
			return show(c.OutOrStdout(), g.json(), raw, []string{"ID", "NAME", "TYPE", "BASE URL", "ENABLED", "HEALTH", "CHECKED", "ENGINE", "ERROR"},
				func(h client.WorkerHost) []string {
					return []string{id(h.ID), h.Name, h.Type, h.BaseURL, yesNo(h.Enabled), health(h.Healthy), when(h.LastCheckedAt),
						h.EngineVersion, short(h.LastError, 60)}
				})
		},
	}
}

func newHostCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "host", Short: "Act on one worker host"}
	cmd.AddCommand(&cobra.Command{
		Use:   "check ID",
		Short: "Ping a worker host's engine now and record the result (exit 2 when unhealthy)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			raw, _, err := idRequest(c, g, args[0], "worker host", http.MethodGet,
				func(id int64) string { return client.Item(client.Hosts, id) + "health/" }, url.Values{"check": {"true"}})
			if err != nil {
				return err
			}
			var h client.HostHealth
			if err := json.Unmarshal(raw, &h); err != nil {
				return fmt.Errorf("decode health: %w", err)
			}
			if g.json() {
				if err := printJSON(c.OutOrStdout(), raw); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(c.OutOrStdout(), "worker host %d %q: %s", h.ID, h.Name, health(h.Healthy))
				if h.EngineVersion != "" {
					fmt.Fprintf(c.OutOrStdout(), " (engine %s)", h.EngineVersion)
				}
				fmt.Fprintln(c.OutOrStdout())
			}
			if h.Healthy == nil || !*h.Healthy {
				return &outcomeError{msg: fmt.Sprintf("worker host %q is unhealthy: %s", h.Name, h.LastError)}
			}
			return nil
		},
	})
	return cmd
}
