package api

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

var echoParam = regexp.MustCompile(`:([a-z_]+)`)

// openAPIPath turns an Echo path into the documented OpenAPI path (with the
// trailing slash the guide uses).
func openAPIPath(p string) string {
	p = echoParam.ReplaceAllString(p, "{$1}")
	if strings.HasPrefix(p, "/api/") {
		p += "/"
	}
	return p
}

type obj = map[string]any

// requestSchemas are the request bodies, by name.
// tlsField describes a worker host's write-only TLS material.
var tlsField = obj{"type": "string", "writeOnly": true, "description": "PEM; never returned. Absent from a " +
	"PUT or PATCH keeps the stored value (a client cannot echo what GET does not return); \"\" or null clears it."}

var requestSchemas = obj{
	"Launch": obj{"type": "object", "additionalProperties": false, "properties": obj{
		"directive_id":   obj{"type": "integer", "minimum": 1},
		"tasks":          obj{"type": "array", "items": obj{"type": "string"}},
		"task_ids":       obj{"type": "array", "items": obj{"type": "integer"}},
		"target_host_id": obj{"type": "integer", "minimum": 1},
	}},
	"Directive": obj{"type": "object", "required": []string{"name"}, "properties": obj{
		"name": obj{"type": "string"}, "description": obj{"type": "string"}, "task_config": obj{"type": "object"},
	}},
	"Schedule": obj{"type": "object", "required": []string{"name", "task_key", "schedule_type"}, "properties": obj{
		"name": obj{"type": "string"}, "task_key": obj{"type": "string"}, "task": obj{"type": "string"},
		"directive_id": obj{"type": "integer", "nullable": true}, "custom_directive_text": obj{"type": "string"},
		"target_host_id": obj{"type": "integer", "nullable": true}, "enabled": obj{"type": "boolean"},
		"schedule_type":    obj{"type": "string", "enum": domain.Strings(domain.ScheduleTypes)},
		"interval_minutes": obj{"type": "integer", "nullable": true}, "cron_expr": obj{"type": "string"},
		"timezone": obj{"type": "string"}, "max_global": obj{"type": "integer", "nullable": true},
		"max_per_job": obj{"type": "integer", "nullable": true},
		"next_run_at": obj{"type": "string", "format": "date-time", "nullable": true},
	}},
	"Task": obj{"type": "object", "required": []string{"key"}, "properties": obj{
		"key": obj{"type": "string"}, "name": obj{"type": "string"}, "description": obj{"type": "string"},
		"enabled": obj{"type": "boolean"}, "default_config": obj{"type": "object"},
		"max_concurrent": obj{"type": "integer", "nullable": true}, "timeout_seconds": obj{"type": "integer"},
		"max_attempts": obj{"type": "integer"}, "needs_docker": obj{"type": "boolean"}, "needs_gpu": obj{"type": "boolean"},
	}},
	"AllowlistEntry": obj{"type": "object", "properties": obj{
		"worker_host_id": obj{"type": "integer", "nullable": true}, "container_name": obj{"type": "string"},
		"container_id": obj{"type": "string"}, "description": obj{"type": "string"}, "enabled": obj{"type": "boolean"},
		"tags": obj{"type": "array", "items": obj{"type": "string"}},
	}},
	"WorkerHost": obj{"type": "object", "required": []string{"name"}, "properties": obj{
		"name": obj{"type": "string"}, "type": obj{"type": "string", "enum": domain.Strings(domain.HostTypes)},
		"base_url": obj{"type": "string"}, "tls_ca": tlsField, "tls_cert": tlsField, "tls_key": tlsField,
		"tls_verify": obj{"type": "boolean"}, "capabilities": obj{"type": "object"}, "enabled": obj{"type": "boolean"},
	}},
	"NotificationChannel": obj{"type": "object", "required": []string{"name", "kind"}, "properties": obj{
		"name": obj{"type": "string"}, "kind": obj{"type": "string", "enum": domain.Strings(domain.ChannelKinds)},
		"enabled": obj{"type": "boolean"}, "settings": obj{"type": "object"},
		"secrets": obj{"type": "object", "writeOnly": true, "description": "url, secret, token, password; never " +
			"returned (GET shows secrets_set, their names). An absent key keeps its value; \"\" or null removes it."},
	}},
	"NotificationRule": obj{"type": "object", "required": []string{"name", "event", "channel_id"}, "properties": obj{
		"name": obj{"type": "string"}, "enabled": obj{"type": "boolean"},
		"event":      obj{"type": "string", "enum": domain.Strings(domain.EventKinds)},
		"channel_id": obj{"type": "integer"}, "worker_host_id": obj{"type": "integer", "nullable": true},
		"task_type": obj{"type": "string"}, "schedule_id": obj{"type": "integer", "nullable": true},
		"min_severity":     obj{"type": "string", "enum": domain.Severities},
		"cooldown_seconds": obj{"type": "integer", "minimum": 0},
		"digest":           obj{"type": "string", "enum": domain.Strings(domain.DigestModes)},
	}},
	"Error": obj{"type": "object", "required": []string{"error"}, "properties": obj{
		"error":  obj{"type": "string"},
		"fields": obj{"type": "object", "additionalProperties": obj{"type": "array", "items": obj{"type": "string"}}},
	}},
}

// OpenAPI builds the OpenAPI 3 document from the route table, so it cannot
// miss a registered route.
func (s *Server) OpenAPI() map[string]any {
	errResp := func(desc string) obj {
		return obj{"description": desc, "content": obj{"application/json": obj{"schema": obj{"$ref": "#/components/schemas/Error"}}}}
	}
	paths := obj{}
	for _, r := range s.routes {
		p := openAPIPath(r.Path)
		item, _ := paths[p].(obj)
		if item == nil {
			item = obj{}
			paths[p] = item
		}
		var params []obj
		for _, m := range echoParam.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, obj{"name": m[1], "in": "path", "required": true, "schema": obj{"type": "integer", "minimum": 1}})
		}
		for _, q := range r.Query {
			params = append(params, obj{"name": q, "in": "query", "required": false, "schema": obj{"type": "string"}})
		}
		okSchema := obj{"type": "object"}
		if r.Array {
			okSchema = obj{"type": "array", "items": obj{"type": "object"}}
		}
		responses := obj{
			strconv.Itoa(r.Status): obj{"description": http.StatusText(r.Status), "content": obj{"application/json": obj{"schema": okSchema}}},
			"400":                  errResp("invalid input"),
			"404":                  errResp("unknown id or route"),
		}
		if strings.HasPrefix(r.Path, "/api/") {
			responses["401"] = errResp("missing or invalid API token")
		}
		if r.Method != get {
			responses["409"] = errResp("conflict")
			responses["413"] = errResp("body over 1 MiB")
		}
		if r.Status == http.StatusNoContent {
			responses["204"] = obj{"description": "deleted"}
		}
		op := obj{"tags": []string{r.Tag}, "summary": r.Summary, "responses": responses,
			"operationId": strings.ToLower(r.Method) + strings.NewReplacer("/", "_", ":", "", "-", "_").Replace(r.Path)}
		if params != nil {
			op["parameters"] = params
		}
		if r.Body != "" {
			op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{
				"schema": obj{"$ref": "#/components/schemas/" + r.Body}}}}
		}
		if !strings.HasPrefix(r.Path, "/api/") {
			op["security"] = []obj{}
		}
		item[strings.ToLower(r.Method)] = op
	}
	return obj{
		"openapi": "3.0.3",
		"info": obj{"title": "cyberbrain API", "version": "1",
			"description": "Runs diagnostic tasks against Docker hosts. Errors are always {\"error\", \"fields\"}. Trailing slash optional."},
		"paths": paths,
		"components": obj{
			"schemas":         requestSchemas,
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}},
		},
		"security": []obj{{"bearer": []string{}}},
	}
}

func (s *Server) openAPI(c echo.Context) error {
	return c.JSON(http.StatusOK, s.OpenAPI())
}
