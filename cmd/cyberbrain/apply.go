package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cyberbrain/cyberbrain/pkg/declarative"
)

func newApplyCmd(g *globals) *cobra.Command {
	var (
		file          string
		dryRun, prune bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f cyberbrain.yaml",
		Short: "Make directives, task settings, worker hosts, schedules and the allow-list match a file",
		Long: `Compare the file with the running system (objects matched by name) and make
the changes it needs: create what is missing, update what differs. A second
apply of the same file changes nothing and says so. --dry-run prints the plan
and changes nothing; --prune also deletes, in each section the file has, what
the section no longer names. The format is what 'cyberbrain export' writes
(docs/CLI.md).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			f, err := readConfig(file, c.InOrStdin())
			if err != nil {
				return err
			}
			plan, err := declarative.MakePlan(c.Context(), cl, f, declarative.Options{Prune: prune})
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if dryRun || len(plan.Changes) == 0 {
				if dryRun && len(plan.Changes) > 0 {
					fmt.Fprintln(out, "plan (dry run, nothing changed):")
				}
				fmt.Fprint(out, plan.String())
				return nil
			}
			n := 0
			err = plan.Apply(c.Context(), cl, func(ch declarative.Change) {
				n++
				fmt.Fprintln(out, ch.String())
			})
			if err != nil {
				return fmt.Errorf("after %d of %d changes: %w", n, len(plan.Changes), err)
			}
			fmt.Fprintf(out, "applied %d changes (%d unchanged)\n", n, plan.Unchanged)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "configuration file (- for stdin)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan, change nothing")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete what the file's sections no longer name")
	_ = cmd.MarkFlagRequired("file")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml")
	return cmd
}

func readConfig(path string, stdin io.Reader) (*declarative.File, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("open configuration: %w", err)
		}
		defer f.Close()
		r = f
	}
	cfg, err := declarative.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func newExportCmd(g *globals) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the running configuration in the format apply reads",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			out, err := declarative.Export(c.Context(), cl)
			if err != nil {
				return err
			}
			if file == "" || file == "-" {
				_, err = c.OutOrStdout().Write(out)
				return err
			}
			if err := os.WriteFile(file, out, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", file, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "write here instead of stdout")
	return cmd
}
