package deployments

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
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
	var cf composeFile
	if err := yaml.Unmarshal([]byte(stdout), &cf); err != nil {
		t.Fatalf("compose config output is not YAML: %v", err)
	}
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
	if api.Environment["CYBERBRAIN_API_TOKEN"] == "" || api.Environment["DATABASE_URL"] == "" {
		t.Errorf("api lacks CYBERBRAIN_API_TOKEN or DATABASE_URL from .env: %v", keys(api.Environment))
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

func TestComposeRefusesToStartWithoutSecrets(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty.env")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := composeConfig(t, empty)
	if err == nil {
		t.Fatal("compose config accepted compose.yaml with no POSTGRES_PASSWORD and no CYBERBRAIN_API_TOKEN")
	}
	if !strings.Contains(stderr, "POSTGRES_PASSWORD") && !strings.Contains(stderr, "CYBERBRAIN_API_TOKEN") {
		t.Errorf("compose's refusal does not name the missing variable:\n%s", stderr)
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
		if k, _, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
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
