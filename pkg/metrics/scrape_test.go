package metrics_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cyberbrain/cyberbrain/pkg/metrics"
)

// families is one parsed scrape.
type families map[string]*dto.MetricFamily

// scrape fetches url and parses it with the Prometheus text parser, failing
// the test on anything a Prometheus server would reject.
func scrape(t *testing.T, url string) families {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain") // the classic text format, not protobuf
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %d", url, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape %s: content type %q, want text/plain", url, ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("scrape %s: text parser: %v", url, err)
	}
	return fams
}

// scrapeHandler scrapes metrics.Handler() over a real HTTP server.
func scrapeHandler(t *testing.T) families {
	t.Helper()
	srv := httptest.NewServer(metrics.Handler())
	defer srv.Close()
	return scrape(t, srv.URL+"/metrics")
}

// find returns the sample of family name whose labels include want, or nil.
func (f families) find(name string, want map[string]string) *dto.Metric {
	fam := f[name]
	if fam == nil {
		return nil
	}
next:
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// value returns a counter's or gauge's value, or a histogram's sample count;
// a missing series reads 0.
func (f families) value(name string, labels map[string]string) float64 {
	m := f.find(name, labels)
	switch {
	case m == nil:
		return 0
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	panic(fmt.Sprintf("metric %s has no value", name))
}

// histSum returns a histogram's sample sum (0 when missing).
func (f families) histSum(name string, labels map[string]string) float64 {
	m := f.find(name, labels)
	if m == nil || m.Histogram == nil {
		return 0
	}
	return m.GetHistogram().GetSampleSum()
}

func labels(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// assertDelta checks that a series moved by exactly want between two scrapes.
func assertDelta(t *testing.T, before, after families, name string, l map[string]string, want float64) {
	t.Helper()
	if got := after.value(name, l) - before.value(name, l); got != want {
		t.Errorf("%s%v moved by %v, want %v", name, l, got, want)
	}
}
