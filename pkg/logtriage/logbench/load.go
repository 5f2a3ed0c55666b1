// Package logbench scores log template mining on hand-labelled logs laid out
// like the LogHub 2k samples (<Dataset>/<Dataset>_2k.log.gz and its
// _structured csv). It is shared by `bench logs` and the accuracy floor test,
// so both read the data and score it the same way.
package logbench

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dataset is one system's labelled sample: line i of Raw has the message
// Content[i] and the true template id Truth[i].
type Dataset struct {
	Name    string
	Raw     []string
	Content []string
	Truth   []string
}

// Load reads every dataset under dir; gt picks the ground truth file
// ("corrected" by default, "original" or "loghub2").
func Load(dir, gt string) ([]Dataset, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read loghub folder: %w", err)
	}
	var out []Dataset
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d, err := loadOne(dir, e.Name(), gt)
		if err != nil {
			return nil, err
		}
		if d != nil {
			out = append(out, *d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func loadOne(dir, name, gt string) (*Dataset, error) {
	suffix := map[string]string{"": "_structured_corrected", "corrected": "_structured_corrected",
		"original": "_structured", "loghub2": "_structured_loghub2"}[gt]
	logPath := filepath.Join(dir, name, name+"_2k.log.gz")
	csvPath := filepath.Join(dir, name, name+"_2k.log"+suffix+".csv.gz")
	if _, err := os.Stat(csvPath); err != nil {
		return nil, nil // no such ground truth for this dataset (loghub2 has no Windows)
	}
	raw, err := readGz(logPath, func(r io.Reader) ([]string, error) { return readLines(r) })
	if err != nil {
		return nil, err
	}
	d := &Dataset{Name: name, Raw: raw}
	if _, err := readGz(csvPath, func(r io.Reader) ([]string, error) { return nil, readCSV(r, d) }); err != nil {
		return nil, err
	}
	if len(d.Truth) != len(d.Raw) {
		return nil, fmt.Errorf("%s: %d raw lines but %d labelled rows", name, len(d.Raw), len(d.Truth))
	}
	return d, nil
}

func readGz(path string, read func(io.Reader) ([]string, error)) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("gunzip %s: %w", path, err)
	}
	out, err := read(zr)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

func readLines(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		out = append(out, strings.TrimRight(sc.Text(), "\r"))
	}
	return out, sc.Err()
}

func readCSV(r io.Reader, d *Dataset) error {
	cr := csv.NewReader(r)
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return err
	}
	content, event := -1, -1
	for i, h := range head {
		switch h {
		case "Content":
			content = i
		case "EventId":
			event = i
		}
	}
	if content < 0 || event < 0 {
		return fmt.Errorf("no Content/EventId columns in %v", head)
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		d.Content = append(d.Content, rec[content])
		d.Truth = append(d.Truth, rec[event])
	}
}
