package main

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

func newDownloadCmd(g *globals) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "download ART",
		Short: "Download an artifact (to its own name in the current folder, -f FILE, or -f - for stdout)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, aid, err := clientAndID(g, args[0], "artifact")
			if err != nil {
				return err
			}
			body, hdr, err := cl.Stream(c.Context(), fmt.Sprintf("/api/artifacts/%d/download/", aid))
			if err != nil {
				return err
			}
			defer body.Close()
			if file == "-" {
				_, err := io.Copy(c.OutOrStdout(), body)
				return err
			}
			name := file
			if name == "" {
				name = fmt.Sprintf("artifact-%d", aid)
				if _, params, err := mime.ParseMediaType(hdr.Get("Content-Disposition")); err == nil && params["filename"] != "" {
					// Only the base name: a server must not choose where we write.
					name = filepath.Base(params["filename"])
				}
			}
			n, err := writeFile(name, body, file != "")
			if err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "wrote %s (%d bytes)\n", name, n)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "where to write (- for stdout); an existing file is not overwritten unless named here")
	return cmd
}

// writeFile copies r into path. A name the server chose never replaces a
// file; one given with -f does.
func writeFile(path string, r io.Reader, replace bool) (int64, error) {
	mode := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if replace {
		mode = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, mode, 0o644)
	if errors.Is(err, os.ErrExist) {
		return 0, fmt.Errorf("%s exists: choose another name with -f", path)
	}
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", path, err)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	return n, nil
}
