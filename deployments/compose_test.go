package deployments

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeCLI returns the compose command (docker compose, else
// docker-compose), skipping without one unless CYBERBRAIN_REQUIRE_DOCKER=1.
func composeCLI(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("docker"); err == nil {
		if exec.Command("docker", "compose", "version").Run() == nil {
			return []string{"docker", "compose"}
		}
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		return []string{p}
	}
	if os.Getenv("CYBERBRAIN_REQUIRE_DOCKER") == "1" {
		t.Fatal("neither `docker compose` nor docker-compose found (CYBERBRAIN_REQUIRE_DOCKER=1)")
	}
	t.Skip("neither `docker compose` nor docker-compose found")
	return nil
}

// composeConfig runs `compose --env-file envFile -f compose.yaml config` with
// no compose variables in the environment, returning stdout, stderr and the error.
func composeConfig(t *testing.T, envFile string) (string, string, error) {
	t.Helper()
	root := repoRoot(t)
	cli := composeCLI(t)
	args := append(cli[1:], "--env-file", envFile, "-f", filepath.Join(root, "compose.yaml"), "config")
	cmd := exec.Command(cli[0], args...)
	cmd.Dir = root
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "CYBERBRAIN_") && !strings.HasPrefix(k, "POSTGRES_") && k != "DOCKER_GID" && k != "DATABASE_URL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

type composeFile struct {
	Services map[string]struct {
		Image     string         `yaml:"image"`
		Build     map[string]any `yaml:"build"`
		Command   []string       `yaml:"command"`
		Ports     []any          `yaml:"ports"`
		Volumes   []any          `yaml:"volumes"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Deploy struct {
			Replicas *int `yaml:"replicas"`
		} `yaml:"deploy"`
		Environment   map[string]string `yaml:"environment"`
		Healthcheck   map[string]any    `yaml:"healthcheck"`
		ContainerName string            `yaml:"container_name"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestComposeConfigAcceptsComposeFileWithExampleEnv(t *testing.T) {
	root := repoRoot(t)
	stdout, stderr, err := composeConfig(t, filepath.Join(root, "deployments", ".env.example"))
	if err != nil {
		t.Fatalf("compose config rejected compose.yaml: %v\n%s", err, stderr)
	}
	checkComposeShape(t, parseCompose(t, stdout))
}

// With no .env at all the stack renders: the guide's `docker-compose up -d`
// needs no settings. The API is published on loopback only and knows it.
func TestComposeConfigNeedsNoSettings(t *testing.T) {
	stdout, stderr, err := composeConfig(t, writeEnv(t, ""))
	if err != nil {
		t.Fatalf("compose config with no .env failed: %v\n%s", err, stderr)
	}
	cf := parseCompose(t, stdout)
	checkComposeShape(t, cf)
	api := cf.Services["api"]
	if ports := yamlString(api.Ports); !strings.Contains(ports, "127.0.0.1") || !strings.Contains(ports, "9595") {
		t.Errorf("api ports %s: want 9595 published on 127.0.0.1 only", ports)
	}
	if got := api.Environment["CYBERBRAIN_PUBLISHED_BIND"]; got != "127.0.0.1" {
		t.Errorf("api CYBERBRAIN_PUBLISHED_BIND = %q, want 127.0.0.1", got)
	}
	if len(cf.Services["postgres"].Ports) > 0 {
		t.Errorf("postgres publishes %v: it must stay on the compose network", cf.Services["postgres"].Ports)
	}
	compose, err := os.ReadFile(filepath.Join(repoRoot(t), "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`\$\{[A-Z0-9_]+:?\?`).FindString(string(compose)); m != "" {
		t.Errorf("compose.yaml still has a required variable (%s…})", m)
	}
	// The default rendering passes the API's own rule: it gets as far as
	// needing a database.
	out := runAPIWithComposeEnv(t, api.Environment)
	if !strings.Contains(out, "no database") {
		t.Errorf("api with compose's default environment: want it past the auth rule, got:\n%s", out)
	}
}

// Publishing beyond loopback without a token: the API refuses to start,
// naming what to set; with a token it does not.
func TestComposeOpenBindNeedsToken(t *testing.T) {
	stdout, stderr, err := composeConfig(t, writeEnv(t, "CYBERBRAIN_BIND=0.0.0.0\n"))
	if err != nil {
		t.Fatalf("compose config: %v\n%s", err, stderr)
	}
	api := parseCompose(t, stdout).Services["api"]
	if ports := yamlString(api.Ports); !strings.Contains(ports, "0.0.0.0") {
		t.Errorf("api ports %s: want the bind 0.0.0.0", ports)
	}
	out := runAPIWithComposeEnv(t, api.Environment)
	if !strings.Contains(out, "set CYBERBRAIN_API_TOKEN") || !strings.Contains(out, "CYBERBRAIN_BIND") {
		t.Errorf("api published on 0.0.0.0 without a token: want a refusal naming CYBERBRAIN_API_TOKEN, got:\n%s", out)
	}

	stdout, stderr, err = composeConfig(t, writeEnv(t, "CYBERBRAIN_BIND=0.0.0.0\nCYBERBRAIN_API_TOKEN=s3cret\n"))
	if err != nil {
		t.Fatalf("compose config: %v\n%s", err, stderr)
	}
	if out := runAPIWithComposeEnv(t, parseCompose(t, stdout).Services["api"].Environment); !strings.Contains(out, "no database") {
		t.Errorf("api with a token on 0.0.0.0: want it past the auth rule, got:\n%s", out)
	}
}

// runAPIWithComposeEnv runs the api binary with the environment compose
// rendered for it, minus the database (so it stops right after its checks),
// and returns its output.
func runAPIWithComposeEnv(t *testing.T, env map[string]string) string {
	t.Helper()
	bin := apiBinary(t)
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		if k != "DATABASE_URL" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("api started without a database:\n%s", out)
	}
	return string(out)
}

var apiBin struct {
	sync.Once
	path string
	err  error
}

// apiBinary builds ./cmd/api once per test binary.
func apiBinary(t *testing.T) string {
	t.Helper()
	apiBin.Do(func() {
		dir, err := os.MkdirTemp("", "cyberbrain-api-")
		if err != nil {
			apiBin.err = err
			return
		}
		apiBin.path = filepath.Join(dir, "api")
		cmd := exec.Command("go", "build", "-o", apiBin.path, "./cmd/api")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			apiBin.err = fmt.Errorf("go build ./cmd/api: %w\n%s", err, out)
		}
	})
	if apiBin.err != nil {
		t.Fatal(apiBin.err)
	}
	return apiBin.path
}

func writeEnv(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test.env")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func parseCompose(t *testing.T, rendered string) composeFile {
	t.Helper()
	var cf composeFile
	if err := yaml.Unmarshal([]byte(rendered), &cf); err != nil {
		t.Fatalf("compose config output is not YAML: %v", err)
	}
	return cf
}

// checkComposeShape holds whatever the settings: services, images, replicas,
// the socket in the scheduler only, health-gated start.
func checkComposeShape(t *testing.T, cf composeFile) {
	t.Helper()
	for _, name := range []string{"postgres", "api", "scheduler"} {
		if _, ok := cf.Services[name]; !ok {
			t.Fatalf("compose.yaml lacks service %q (the guide uses docker-compose ps/logs scheduler)", name)
		}
	}

	pg := cf.Services["postgres"]
	if pg.Image != "postgres:16" || pg.Healthcheck == nil {
		t.Errorf("postgres: image %q, healthcheck %v: want postgres:16 with a healthcheck", pg.Image, pg.Healthcheck)
	}
	if !mountsVolume(pg.Volumes, "pgdata") || !hasKey(cf.Volumes, "pgdata") {
		t.Errorf("postgres data is not on the named volume pgdata: %v", pg.Volumes)
	}

	api := cf.Services["api"]
	if api.Build["dockerfile"] != "Dockerfile.api" {
		t.Errorf("api builds from %v, want Dockerfile.api", api.Build["dockerfile"])
	}
	if !slices.Contains(api.Command, "0.0.0.0:9595") || len(api.Ports) == 0 || !strings.Contains(yamlString(api.Ports), "9595") {
		t.Errorf("api must listen on 0.0.0.0:9595 and publish 9595: command %v ports %v", api.Command, api.Ports)
	}
	if api.Environment["DATABASE_URL"] == "" {
		t.Errorf("api lacks DATABASE_URL: %v", keys(api.Environment))
	}

	sch := cf.Services["scheduler"]
	if sch.Build["dockerfile"] != "Dockerfile.scheduler" {
		t.Errorf("scheduler builds from %v, want Dockerfile.scheduler", sch.Build["dockerfile"])
	}
	if sch.Deploy.Replicas == nil || *sch.Deploy.Replicas != 2 {
		t.Errorf("scheduler deploy.replicas = %v, want 2", sch.Deploy.Replicas)
	}
	if !slices.Contains(sch.Command, "--interval") || !slices.Contains(sch.Command, "30s") {
		t.Errorf("scheduler command %v, want --interval 30s", sch.Command)
	}
	if len(sch.Ports) > 0 || sch.ContainerName != "" {
		t.Error("scheduler publishes ports or names its container: it could not scale past one replica")
	}

	// The Docker socket: read-only, and in the scheduler only.
	for name, svc := range cf.Services {
		sock := socketMount(svc.Volumes)
		switch {
		case name == "scheduler" && sock == "":
			t.Error("scheduler does not mount /var/run/docker.sock")
		case name == "scheduler" && !strings.HasSuffix(sock, ":ro"):
			t.Errorf("scheduler mounts the Docker socket writable: %s", sock)
		case name != "scheduler" && sock != "":
			t.Errorf("service %s mounts the Docker socket; only the scheduler may", name)
		}
	}
	for _, name := range []string{"api", "scheduler"} {
		if c := cf.Services[name].DependsOn["postgres"].Condition; c != "service_healthy" {
			t.Errorf("%s depends on postgres with condition %q, want service_healthy", name, c)
		}
	}
}

// Every variable compose.yaml reads is listed in deployments/.env.example.
func TestEnvExampleListsEveryComposeVariable(t *testing.T) {
	root := repoRoot(t)
	compose, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(root, "deployments", ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(example), "\n") {
		// Settings are optional: a commented "# KEY=value" lists one too.
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if k, _, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(k, " #") {
			listed[k] = true
		}
	}
	used := regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)`).FindAllStringSubmatch(string(compose), -1)
	if len(used) == 0 {
		t.Fatal("compose.yaml reads no variables: the regexp is wrong")
	}
	for _, m := range used {
		if !listed[m[1]] {
			t.Errorf("compose.yaml reads ${%s}, which deployments/.env.example does not list", m[1])
		}
	}
}

func socketMount(vols []any) string {
	for _, v := range vols {
		s := yamlString(v)
		if strings.Contains(s, "/var/run/docker.sock") {
			if m, ok := v.(map[string]any); ok { // long syntax from `docker compose config`
				if ro, _ := m["read_only"].(bool); ro {
					return s + ":ro"
				}
				return s
			}
			return s
		}
	}
	return ""
}

func mountsVolume(vols []any, name string) bool {
	for _, v := range vols {
		s := yamlString(v)
		if strings.HasPrefix(s, name+":") || strings.Contains(s, "source: "+name) {
			return true
		}
	}
	return false
}

func yamlString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := yaml.Marshal(v)
	return string(b)
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
