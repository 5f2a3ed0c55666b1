package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// hostInput is a worker host create/edit body. tls_ca, tls_cert and tls_key
// are write-only: accepted here, never returned; absent from a PUT or PATCH
// they keep their stored value, "" or null clears them.
type hostInput struct {
	Name         Opt[string]          `json:"name"`
	Type         Opt[domain.HostType] `json:"type"`
	BaseURL      Opt[string]          `json:"base_url"`
	TLSCA        Opt[string]          `json:"tls_ca"`
	TLSCert      Opt[string]          `json:"tls_cert"`
	TLSKey       Opt[string]          `json:"tls_key"`
	TLSVerify    Opt[bool]            `json:"tls_verify"`
	Capabilities Opt[json.RawMessage] `json:"capabilities"`
	Enabled      Opt[bool]            `json:"enabled"`
	readOnly
	// Written by health checks only; accepted back from a GET, ignored.
	Healthy       json.RawMessage `json:"healthy"`
	LastSeenAt    json.RawMessage `json:"last_seen_at"`
	LastCheckedAt json.RawMessage `json:"last_checked_at"`
	LastError     json.RawMessage `json:"last_error"`
	EngineVersion json.RawMessage `json:"engine_version"`
}

// baseURLSchemes lists the URL schemes each host type may use.
var baseURLSchemes = map[domain.HostType][]string{
	domain.HostDockerSocket: {"unix://"},
	domain.HostDockerTCP:    {"tcp://", "https://", "http://"},
	domain.HostDockerSSH:    {"ssh://"},
}

func (in *hostInput) apply(h *store.WorkerHost, full bool) error {
	if full {
		// PUT resets every field it does not name, except the write-only TLS
		// material: GET never returns it, so a client echoing what it read
		// cannot send it back, and a PUT of a host's own GET would otherwise
		// wipe its certificates. An explicit "" (or null) clears them.
		*h = store.WorkerHost{ID: h.ID, Type: domain.HostDockerSocket, TLSVerify: true, Enabled: true,
			Capabilities: json.RawMessage(`{}`), TLSCA: h.TLSCA, TLSCert: h.TLSCert, TLSKey: h.TLSKey}
	}
	fields := map[string][]string{}
	bad := func(f, m string) { fields[f] = append(fields[f], m) }
	for _, p := range []struct {
		o   Opt[string]
		dst *string
	}{{in.Name, &h.Name}, {in.BaseURL, &h.BaseURL}, {in.TLSCA, &h.TLSCA},
		{in.TLSCert, &h.TLSCert}, {in.TLSKey, &h.TLSKey}} {
		if p.o.Set {
			*p.dst = p.o.V
		}
	}
	if in.Type.Set { // validated below against baseURLSchemes
		h.Type = in.Type.V
	}
	h.Name = strings.TrimSpace(h.Name)
	if h.Name == "" || utf8.RuneCountInString(h.Name) > MaxNameChars {
		bad("name", "is required (at most 200 characters)")
	}
	if in.TLSVerify.Set && !in.TLSVerify.Null {
		h.TLSVerify = in.TLSVerify.V
	}
	if in.Enabled.Set && !in.Enabled.Null {
		h.Enabled = in.Enabled.V
	}
	if schemes, ok := baseURLSchemes[h.Type]; !ok {
		bad("type", "must be one of "+strings.Join(domain.Strings(domain.HostTypes), ", "))
	} else if h.BaseURL != "" && !hasAnyPrefix(h.BaseURL, schemes) {
		bad("base_url", "a "+string(h.Type)+" host's base_url starts with "+strings.Join(schemes, " or "))
	} else if h.BaseURL == "" && h.Type != domain.HostDockerSocket {
		bad("base_url", "is required for a "+string(h.Type)+" host")
	}
	if in.Capabilities.Set {
		h.Capabilities = json.RawMessage(`{}`)
		if !in.Capabilities.Null {
			h.Capabilities = in.Capabilities.V
		}
		if msg := checkCapabilities(h.Capabilities); msg != "" {
			bad("capabilities", msg)
		}
	}
	if len(fields) > 0 {
		return badRequest(fields, "invalid worker host")
	}
	return nil
}

// checkCapabilities validates the keys routing reads; other keys are kept.
func checkCapabilities(raw json.RawMessage) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return "must be a JSON object"
	}
	var caps struct {
		GPUs           *int64   `json:"gpus"`
		MaxConcurrency *int64   `json:"max_concurrency"`
		Labels         []string `json:"labels"`
		GPUImage       string   `json:"gpu_image"`
	}
	if err := json.Unmarshal(raw, &caps); err != nil {
		return "gpus and max_concurrency are integers, labels a list of strings, gpu_image a string"
	}
	if caps.GPUs != nil && (*caps.GPUs < 0 || *caps.GPUs > 1024) {
		return "gpus must be from 0 to 1024"
	}
	if caps.MaxConcurrency != nil && (*caps.MaxConcurrency < 1 || *caps.MaxConcurrency > maxLimit) {
		return "max_concurrency must be a positive integer"
	}
	return ""
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// hosts serves /api/worker-hosts.
func (s *Server) hosts() collection {
	return crud[store.WorkerHost, hostInput]{
		list: s.st.ListWorkerHosts, get: s.st.GetWorkerHost, create: s.st.SaveWorkerHost,
		update: s.st.SaveWorkerHost, remove: s.st.DeleteWorkerHost, apply: s.applyHost,
	}.collection(s)
}

// hostHealth is GET /api/worker-hosts/{id}/health/.
type hostHealth struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Enabled       bool       `json:"enabled"`
	Healthy       *bool      `json:"healthy"`
	LastSeenAt    *time.Time `json:"last_seen_at"`
	LastCheckedAt *time.Time `json:"last_checked_at"`
	LastError     string     `json:"last_error"`
	EngineVersion string     `json:"engine_version"`
	Checked       bool       `json:"checked"`
}

// hostHealthCheck answers the stored health; with ?check=true it first pings
// the engine and records the result. A plain GET never changes anything.
func (s *Server) hostHealthCheck(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	check := false
	switch strings.ToLower(c.QueryParam("check")) {
	case "", "false", "0":
	case "true", "1":
		check = true
	default:
		return fieldError("check", "must be true or false")
	}
	ctx := c.Request().Context()
	h, err := s.st.GetWorkerHost(ctx, id)
	if err != nil {
		return err
	}
	if check {
		if s.cfg.HostChecker == nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "health checks unavailable")
		}
		res, err := s.checkHost(ctx, h)
		if err != nil {
			return err
		}
		if err := s.st.RecordHostHealth(ctx, id, res); err != nil {
			return err
		}
		if h, err = s.st.GetWorkerHost(ctx, id); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, hostHealth{ID: h.ID, Name: h.Name, Enabled: h.Enabled, Healthy: h.Healthy,
		LastSeenAt: h.LastSeenAt, LastCheckedAt: h.LastCheckedAt, LastError: h.LastError,
		EngineVersion: h.EngineVersion, Checked: check})
}
