package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cyberbrain/cyberbrain/pkg/dockerhost"
	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/tasks"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

const wait = 30 * time.Second

// /hosts lists each host with its health, engine version and last error;
// a host's page shows them and "Check now" records a fresh check; the map
// and GPU pages say there is nothing yet. No page logs a console error.
func TestHostPages(t *testing.T) {
	e := newEnv(t, withChecker(fakeChecker{store.HostHealth{Healthy: true, EngineVersion: "27.3.1"}}))
	ctx := context.Background()
	bad := newHost(t, e.st, "edge-"+xss)
	if err := e.st.RecordHostHealth(ctx, bad.ID, store.HostHealth{Healthy: false, Error: "engine unreachable"}); err != nil {
		t.Fatal(err)
	}
	b := e.b
	b.Do(t, wait, chromedp.Navigate(e.url+"/hosts"), chromedp.WaitVisible(chromedp.CSS("table.hosts")))
	rows := testenvGet(t, e, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.hosts tbody tr")].map(r => r.innerText)`))
	if len(rows) != 2 {
		t.Fatalf("/hosts rows = %q, want local and the new host", rows)
	}
	var edge string
	for _, r := range rows {
		if strings.Contains(r, "edge-") {
			edge = r
		}
	}
	for _, want := range []string{xss, "unhealthy", "engine unreachable"} {
		if !strings.Contains(edge, want) {
			t.Errorf("/hosts row %q lacks %q", edge, want)
		}
	}
	noXSS(t, e, "/hosts")
	e.noErrors("/hosts")

	// The host's page, then a check that reaches the engine.
	b.Do(t, wait, chromedp.Click(chromedp.CSS(`table.hosts a[href="/hosts/`+itoa(bad.ID)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#last-error .error-message")))
	if h1 := getString(t, e, chromedp.Text(chromedp.CSS("h1"))); !strings.Contains(h1, xss) || !strings.Contains(h1, "unhealthy") {
		t.Errorf("host page h1 = %q", h1)
	}
	b.Do(t, wait, chromedp.Click(chromedp.CSS("#check-now")), chromedp.WaitVisible(chromedp.CSS("h1 .s-healthy")))
	if v := getString(t, e, chromedp.Text(chromedp.CSS("#engine-version"))); v != "Docker 27.3.1" {
		t.Errorf("engine version after the check = %q", v)
	}
	if v := getString(t, e, chromedp.Text(chromedp.CSS("#last-error"))); !strings.Contains(v, "none") {
		t.Errorf("last error after a good check = %q", v)
	}
	noXSS(t, e, "/hosts/{id}")
	e.noErrors("/hosts/{id}")

	b.Do(t, wait, chromedp.Click(chromedp.CSS(`.host-views a[href$="/map"]`)), chromedp.WaitVisible(chromedp.CSS("#no-map")))
	e.noErrors("/hosts/{id}/map")
	b.Do(t, wait, chromedp.Click(chromedp.CSS(`.host-views a[href$="/gpus"]`)), chromedp.WaitVisible(chromedp.CSS("#no-report")))
	e.noErrors("/hosts/{id}/gpus")

	for _, p := range []string{"/hosts/999999", "/hosts/x", "/hosts/999999/map", "/hosts/999999/gpus"} {
		res, err := http.Get(e.url + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
		}
	}
}

// An allow-list entry added in the form shows on the host's page (its
// description literally, never as markup) and in the store; a bad one is
// refused with the message next to its field and stores nothing; Remove
// deletes it.
func TestHostAllowlist(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := newHost(t, e.st, "web1")
	b := e.b
	b.Do(t, wait, chromedp.Navigate(hostURL(e, h.ID, "")), chromedp.WaitVisible(chromedp.CSS("#allow-empty")))
	e.noErrors("/hosts/{id}")

	// Refused: an id that is not hex.
	b.Do(t, wait,
		chromedp.SendKeys(chromedp.CSS("#container_name"), "nginx"),
		chromedp.SendKeys(chromedp.CSS("#container_id"), "not-hex!"),
		chromedp.Click(chromedp.CSS("#allow-add")),
		chromedp.WaitVisible(chromedp.CSS("#container_id-error")))
	expectBrowserError(t, e, "status of 400")
	if v := getString(t, e, chromedp.Value(chromedp.CSS("#container_name"))); v != "nginx" {
		t.Errorf("the refused form lost its name: %q", v)
	}
	if own, _, err := e.st.HostAllowlist(ctx, h.ID, 10); err != nil || len(own) != 0 {
		t.Fatalf("a refused entry was stored: %v %v", own, err)
	}

	// Accepted, once the id is cleared.
	testenvGet(t, e, chromedp.Evaluate[bool](`(document.getElementById("container_id").value = "", true)`))
	b.Do(t, wait,
		chromedp.SendKeys(chromedp.CSS("#description"), xss),
		chromedp.SendKeys(chromedp.CSS("#tags"), "web, edge"),
		chromedp.Click(chromedp.CSS("#allow-add")),
		chromedp.WaitVisible(chromedp.CSS("table.allowlist tbody tr")))
	row := getString(t, e, chromedp.Text(chromedp.CSS("table.allowlist tbody tr")))
	for _, want := range []string{"nginx", xss, "web", "edge"} {
		if !strings.Contains(row, want) {
			t.Errorf("allow-list row %q lacks %q", row, want)
		}
	}
	noXSS(t, e, "allow-list")
	e.noErrors("allow-list add")
	own, _, err := e.st.HostAllowlist(ctx, h.ID, 10)
	if err != nil || len(own) != 1 || own[0].ContainerName != "nginx" || string(own[0].Tags) != `["web", "edge"]` {
		t.Fatalf("stored entries = %+v (%v)", own, err)
	}

	// A form without the CSRF token changes nothing.
	res, err := http.PostForm(hostURL(e, h.ID, "/allowlist/"+itoa(own[0].ID)+"/delete"), url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("delete without CSRF token: %d %s", res.StatusCode, body)
	}

	// Another host's entry cannot be removed through this host's page.
	other := newHost(t, e.st, "web2")
	allow(t, e.st, other.ID, "redis")
	_, others, _ := e.st.HostAllowlist(ctx, h.ID, 10)
	theirs, _, _ := e.st.HostAllowlist(ctx, other.ID, 10)
	// A valid CSRF pair: the page's token repeated in the cookie.
	tok := testenvGet(t, e, chromedp.Evaluate[string](`cyberbrain.csrf()`))
	req, _ := http.NewRequest(http.MethodPost, hostURL(e, h.ID, "/allowlist/"+itoa(theirs[0].ID)+"/delete"), nil)
	req.Header.Set("X-CSRF-Token", tok)
	req.AddCookie(&http.Cookie{Name: "cyberbrain_csrf", Value: tok})
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	status := res.StatusCode
	if after, _, _ := e.st.HostAllowlist(ctx, other.ID, 10); status != http.StatusNotFound || len(after) != 1 || len(others) != 0 {
		t.Errorf("removing another host's entry: %d, entries left %d", status, len(after))
	}

	b.Do(t, wait, chromedp.Click(chromedp.CSS("table.allowlist button.danger")), chromedp.WaitVisible(chromedp.CSS("#allow-empty")))
	e.noErrors("allow-list remove")
	if own, _, err := e.st.HostAllowlist(ctx, h.ID, 10); err != nil || len(own) != 0 {
		t.Fatalf("entry not removed: %v %v", own, err)
	}
}

// The map of the local host, from a real service_map run: the test's two
// containers (one publishing a port, one with compose labels holding
// markup) and their network are drawn; selecting a container shows its
// details; the markup shows literally and never runs.
func TestHostMapOfLocalHost(t *testing.T) {
	cli := testenv.Docker(t)
	testenv.CTask(t, cli)
	e := newEnv(t)
	h := newHost(t, e.st, "docker-here")
	netName := uniqueName("cbweb-net")
	web, db := uniqueName("cbweb-web"), uniqueName("cbweb-db")
	dockerNetwork(t, cli, netName)
	ctaskContainer(t, cli, web, netName, map[string]string{"com.docker.compose.project": xss, "com.docker.compose.service": xss}, nil, true)
	ctaskContainer(t, cli, db, netName, map[string]string{"purpose": xss}, nil, false)
	allow(t, e.st, h.ID, web)
	allow(t, e.st, h.ID, db)

	// Open the page before the map exists: it appears when the run ends.
	b := e.b
	b.Do(t, wait, chromedp.Navigate(hostURL(e, h.ID, "/map")), chromedp.WaitVisible(chromedp.CSS("#no-map")))
	e.startScheduler(tasks.Registry{"service_map": tasks.ServiceMap(dockerhost.NewPool())})
	run := launchOn(t, e.st, "service_map", h.ID)
	b.Do(t, 90*time.Second, chromedp.WaitVisible(chromedp.CSS("#svcmap")))
	if src := getString(t, e, chromedp.Text(chromedp.CSS("#map-source"))); !strings.Contains(src, "run #"+itoa(run)) {
		t.Errorf("map source = %q, want run #%d", src, run)
	}
	names := testenvGet(t, e, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#svcmap .node-link")].map(a => a.dataset.container + "|" + a.querySelector(".node-name").textContent)`))
	if len(names) != 2 || !containsAll(strings.Join(names, " "), web+"|"+web, db+"|"+db) {
		t.Errorf("container nodes = %q, want %s and %s", names, web, db)
	}
	nets := testenvGet(t, e, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#svcmap .net text")].map(t => t.textContent)`))
	if len(nets) != 1 || nets[0] != netName {
		t.Errorf("networks drawn = %q, want %s", nets, netName)
	}
	if n := testenvGet(t, e, chromedp.Evaluate[int](`document.querySelectorAll("#svcmap path.edge").length`)); n != 2 {
		t.Errorf("%d edges, want one per container to %s", n, netName)
	}
	groups := testenvGet(t, e, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#svcmap .group-label")].map(t => t.textContent)`))
	if strings.Join(groups, "|") != "compose: "+xss+"|not in a compose project" {
		t.Errorf("groups = %q", groups)
	}
	port := testenvGet(t, e, chromedp.Evaluate[string](`[...document.querySelectorAll('#svcmap .node-link[data-container="`+web+`"] .node-port')].map(t => t.textContent).join()`))
	if !strings.HasPrefix(port, "127.0.0.1:") || !strings.HasSuffix(port, "→8080/tcp") {
		t.Errorf("published port label = %q", port)
	}
	noXSS(t, e, "map")
	e.noErrors("map")

	// Selecting a container shows its details.
	b.Do(t, wait, chromedp.Click(chromedp.CSS(`#svcmap .node-link[data-container="`+web+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#c-"+web)))
	details := getString(t, e, chromedp.Text(chromedp.CSS("#c-"+web)))
	for _, want := range []string{web, testenv.CTaskImage, "running", xss, netName, "→8080/tcp"} {
		if !containsAll(details, want) {
			t.Errorf("details of %s lack %q:\n%s", web, want, details)
		}
	}
	if vis := testenvGet(t, e, chromedp.Evaluate[bool](`getComputedStyle(document.getElementById("c-`+db+`")).display !== "none"`)); vis {
		t.Errorf("details of %s show while %s is selected", db, web)
	}
	// With the keyboard: focus the other node and press Enter.
	b.Do(t, wait, chromedp.Focus(chromedp.CSS(`#svcmap .node-link[data-container="`+db+`"]`)),
		chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("#c-"+db)))
	noXSS(t, e, "map details")
	e.noErrors("map details")
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A job running on the host appears in its page's running jobs without a
// reload, links to its run, and leaves the list when it ends.
func TestHostRunningJobsLive(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := newHost(t, e.st, "busy")
	if err := testenv.SQL(t, e.st).Exec(`UPDATE task_definitions SET enabled = true WHERE key = 'noop'`).Error; err != nil {
		t.Fatal(err)
	}
	d := store.Directive{Name: "slow", TaskConfig: store.JSON(`{"noop": {"sleep_ms": 4000}}`)}
	if err := e.st.CreateDirective(ctx, &d); err != nil {
		t.Fatal(err)
	}
	b := e.b
	b.Do(t, wait, chromedp.Navigate(hostURL(e, h.ID, "")), chromedp.WaitVisible(chromedp.CSS("#host-jobs .empty")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-live="ready"]`)))
	e.startScheduler(nil)
	run, err := e.st.Launch(ctx, store.LaunchRequest{DirectiveID: &d.ID, Tasks: []string{"noop"}, TargetHostID: &h.ID})
	if err != nil {
		t.Fatal(err)
	}
	link := `#host-jobs a[href="/runs/` + itoa(run.ID) + `"]`
	b.Do(t, wait, chromedp.WaitVisible(chromedp.CSS(link)))
	if row := getString(t, e, chromedp.Text(chromedp.CSS("#host-jobs tbody tr"))); !strings.Contains(row, "noop") || !strings.Contains(row, "web-test") {
		t.Errorf("running job row = %q", row)
	}
	b.Do(t, wait, chromedp.WaitVisible(chromedp.CSS("#host-jobs .empty")))
	e.noErrors("running jobs")
}
