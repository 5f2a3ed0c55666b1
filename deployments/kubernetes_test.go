package deployments

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// k8sObject is the part of a manifest the checks read.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas *int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		// Service
		ServiceSelector map[string]string `yaml:"-"`
		Ports           []struct {
			Port       int `yaml:"port"`
			TargetPort any `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
	file string
	raw  map[string]any
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	Containers []k8sContainer `yaml:"containers"`
}

type k8sContainer struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// loadManifests parses every YAML document under deployments/kubernetes.
func loadManifests(t *testing.T) []k8sObject {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "deployments", "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deployments/kubernetes (%v)", err)
	}
	var objs []k8sObject
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(false)
		for i := 0; ; i++ {
			var node yaml.Node
			err := dec.Decode(&node)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", filepath.Base(f), i, err)
			}
			var o k8sObject
			if err := node.Decode(&o); err != nil {
				t.Fatalf("%s document %d: %v", filepath.Base(f), i, err)
			}
			if err := node.Decode(&o.raw); err != nil {
				t.Fatalf("%s document %d: %v", filepath.Base(f), i, err)
			}
			spec, _ := o.raw["spec"].(map[string]any)
			if sel, ok := spec["selector"].(map[string]any); ok && o.Kind == "Service" {
				o.Spec.ServiceSelector = map[string]string{}
				for k, v := range sel {
					o.Spec.ServiceSelector[k], _ = v.(string)
				}
			}
			o.file = filepath.Base(f)
			objs = append(objs, o)
		}
	}
	return objs
}

var knownKinds = map[string]string{
	"Deployment": "apps/v1", "Service": "v1", "Secret": "v1", "ConfigMap": "v1",
}

func TestKubernetesManifestsAreWellFormed(t *testing.T) {
	objs := loadManifests(t)
	byKindName := map[string]k8sObject{}
	for _, o := range objs {
		where := o.file + ": " + o.Kind + "/" + o.Metadata.Name
		if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
			t.Errorf("%s: apiVersion, kind and metadata.name are required", where)
			continue
		}
		if want, ok := knownKinds[o.Kind]; !ok {
			t.Errorf("%s: unexpected kind", where)
		} else if o.APIVersion != want {
			t.Errorf("%s: apiVersion %s, want %s", where, o.APIVersion, want)
		}
		key := o.Kind + "/" + o.Metadata.Name
		if _, dup := byKindName[key]; dup {
			t.Errorf("%s declared twice", key)
		}
		byKindName[key] = o
	}

	referencedSecrets := map[string]bool{}
	for _, o := range objs {
		if o.Kind != "Deployment" {
			continue
		}
		where := o.file + ": Deployment/" + o.Metadata.Name
		sel, labels := o.Spec.Selector.MatchLabels, o.Spec.Template.Metadata.Labels
		if len(sel) == 0 {
			t.Errorf("%s: empty selector", where)
		}
		for k, v := range sel {
			if labels[k] != v {
				t.Errorf("%s: selector %s=%s does not match the pod template labels %v", where, k, v, labels)
			}
		}
		if sc := o.Spec.Template.Spec.SecurityContext.RunAsNonRoot; sc == nil || !*sc {
			t.Errorf("%s: pods must set runAsNonRoot", where)
		}
		if len(o.Spec.Template.Spec.Containers) == 0 {
			t.Errorf("%s: no containers", where)
		}
		for _, c := range o.Spec.Template.Spec.Containers {
			cw := where + " container " + c.Name
			if c.Name == "" || c.Image == "" {
				t.Errorf("%s: name and image are required", cw)
			}
			if len(c.Resources.Requests) == 0 || len(c.Resources.Limits) == 0 {
				t.Errorf("%s: resources.requests and resources.limits are required", cw)
			}
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					ref := e.ValueFrom.SecretKeyRef
					referencedSecrets[ref.Name] = true
					s, ok := byKindName["Secret/"+ref.Name]
					if !ok {
						t.Errorf("%s: env %s references missing Secret %s", cw, e.Name, ref.Name)
					} else if _, ok := s.StringData[ref.Key]; !ok {
						if _, ok := s.Data[ref.Key]; !ok {
							t.Errorf("%s: env %s references key %s absent from Secret %s", cw, e.Name, ref.Key, ref.Name)
						}
					}
				}
			}
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil {
					if _, ok := byKindName["ConfigMap/"+ef.ConfigMapRef.Name]; !ok {
						t.Errorf("%s: envFrom references missing ConfigMap %s", cw, ef.ConfigMapRef.Name)
					}
				}
				if ef.SecretRef != nil {
					referencedSecrets[ef.SecretRef.Name] = true
				}
			}
			for _, p := range []*probe{c.LivenessProbe, c.ReadinessProbe} {
				if p != nil && p.HTTPGet != nil && !portDeclared(c, p.HTTPGet.Port) {
					t.Errorf("%s: probe %s targets undeclared port %v", cw, p.HTTPGet.Path, p.HTTPGet.Port)
				}
			}
		}
	}
	for key, o := range byKindName {
		if o.Kind == "Secret" && !referencedSecrets[o.Metadata.Name] {
			t.Errorf("%s is referenced by no container", key)
		}
	}
}

func TestKubernetesAPIAndSchedulerShape(t *testing.T) {
	objs := loadManifests(t)
	find := func(kind, component string) *k8sObject {
		for i, o := range objs {
			if o.Kind == kind && o.Metadata.Labels["app.kubernetes.io/component"] == component {
				return &objs[i]
			}
		}
		t.Fatalf("no %s for component %s", kind, component)
		return nil
	}

	api := find("Deployment", "api")
	c := api.Spec.Template.Spec.Containers[0]
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Error("api liveness probe must GET /healthz")
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Error("api readiness probe must GET /readyz")
	}
	env := map[string]bool{}
	for _, e := range c.Env {
		env[e.Name] = e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil
	}
	for _, name := range []string{"DATABASE_URL", "CYBERBRAIN_API_TOKEN"} {
		if !env[name] {
			t.Errorf("api env %s must come from the Secret (secretKeyRef)", name)
		}
	}
	if !portDeclared(c, 9595) {
		t.Error("api container does not declare port 9595")
	}

	svc := find("Service", "api")
	for k, v := range svc.Spec.ServiceSelector {
		if api.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("Service %s selector %s=%s matches no api pod label", svc.Metadata.Name, k, v)
		}
	}
	if len(svc.Spec.ServiceSelector) == 0 || len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].Port != 9595 {
		t.Errorf("Service %s must select the api pods and expose 9595", svc.Metadata.Name)
	}
	for _, p := range svc.Spec.Ports {
		if !portDeclared(c, p.TargetPort) {
			t.Errorf("Service targetPort %v is not a port of the api container", p.TargetPort)
		}
	}

	sch := find("Deployment", "scheduler")
	if sch.Spec.Replicas == nil || *sch.Spec.Replicas < 2 {
		t.Errorf("scheduler replicas %v, want at least 2", sch.Spec.Replicas)
	}
	sc := sch.Spec.Template.Spec.Containers[0]
	hasDB := false
	for _, e := range sc.Env {
		if e.Name == "DATABASE_URL" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			hasDB = true
		}
		if e.Name == "CYBERBRAIN_API_TOKEN" {
			t.Error("the scheduler does not need the API token; keep it out of its environment")
		}
	}
	if !hasDB {
		t.Error("scheduler DATABASE_URL must come from the Secret")
	}
	if raw := yamlString(sch.raw); strings.Contains(raw, "docker.sock") && !strings.Contains(raw, "hostPath") {
		t.Error("scheduler mentions docker.sock without a hostPath volume")
	}
}

// portDeclared reports whether a probe or Service port (a number or a name)
// is one of the container's ports.
func portDeclared(c k8sContainer, port any) bool {
	for _, p := range c.Ports {
		switch v := port.(type) {
		case int:
			if p.ContainerPort == v {
				return true
			}
		case string:
			if p.Name == v {
				return true
			}
		}
	}
	return false
}
