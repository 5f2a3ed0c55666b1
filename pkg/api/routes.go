package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// route is one registered endpoint and what the OpenAPI document says of it.
type route struct {
	Method  string
	Path    string // Echo form: /api/runs/:id
	Tag     string
	Summary string
	Query   []string // documented query parameters
	Body    string   // request body schema name, "" = none
	Status  int      // success status
	Array   bool     // success body is a bare array
}

func (s *Server) add(r route, h echo.HandlerFunc) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	s.echo.Add(r.Method, r.Path, h)
	s.routes = append(s.routes, r)
	s.queries[r.Method+" "+r.Path] = r.Query
}

var (
	pageQuery = []string{"page", "page_size", "ordering"}
	get, post = http.MethodGet, http.MethodPost
	put       = http.MethodPut
	patch     = http.MethodPatch
	del       = http.MethodDelete
)

// crud registers list/create/get/put/patch(/delete) of one collection;
// filters are the list's query parameters besides pageQuery.
func (s *Server) crud(base, tag, body string, h collection, filters ...string) {
	s.add(route{Method: get, Path: base, Tag: tag, Summary: "List " + tag + " (newest first, paginated)",
		Query: append(filters, pageQuery...)}, h.list)
	s.add(route{Method: post, Path: base, Tag: tag, Summary: "Create one of " + tag, Body: body, Status: http.StatusCreated}, h.create)
	s.add(route{Method: get, Path: base + "/:id", Tag: tag, Summary: "Get one of " + tag}, h.get)
	s.add(route{Method: put, Path: base + "/:id", Tag: tag, Summary: "Replace one of " + tag, Body: body}, h.update)
	s.add(route{Method: patch, Path: base + "/:id", Tag: tag, Summary: "Change fields of one of " + tag, Body: body}, h.update)
	if h.remove != nil {
		s.add(route{Method: del, Path: base + "/:id", Tag: tag, Summary: "Delete one of " + tag + " (409 while history references it)",
			Status: http.StatusNoContent}, h.remove)
	}
}

// register declares every endpoint. Paths have no trailing slash;
// the Pre middleware strips it from requests, so both forms work.
func (s *Server) register() {
	s.add(route{Method: get, Path: "/healthz", Tag: "health", Summary: "Liveness"}, s.healthz)
	s.add(route{Method: get, Path: "/readyz", Tag: "health", Summary: "Readiness: database reachable and schema current"}, s.readyz)
	if s.cfg.MetricsHandler != nil {
		s.add(route{Method: get, Path: "/metrics", Tag: "health", Summary: "Prometheus metrics"}, echo.WrapHandler(s.cfg.MetricsHandler))
	}
	s.add(route{Method: get, Path: "/api/schema", Tag: "schema", Summary: "This OpenAPI 3 document"}, s.openAPI)

	s.crud("/api/directives", "directives", "Directive", s.directives())

	s.add(route{Method: post, Path: "/api/runs/launch", Tag: "runs", Summary: "Launch a run", Body: "Launch", Status: http.StatusCreated}, s.launchRun)
	s.add(route{Method: get, Path: "/api/runs", Tag: "runs", Summary: "List runs", Query: append([]string{"status", "directive"}, pageQuery...)}, s.listRuns)
	s.add(route{Method: get, Path: "/api/runs/:id", Tag: "runs", Summary: "Run detail with jobs[]"}, getByID(s.st.GetRunDetail))
	s.add(route{Method: post, Path: "/api/runs/:id/cancel", Tag: "runs", Summary: "Cancel a pending or running run (409 when finished)"}, actionByID(s.st.CancelRun))
	s.add(route{Method: get, Path: "/api/runs/:id/jobs", Tag: "runs", Summary: "Jobs of a run", Array: true,
		Query: []string{"limit", "offset"}}, subList(s.st.ListRunJobs))
	s.add(route{Method: get, Path: "/api/runs/:id/report", Tag: "runs", Summary: "Run report and artifact metadata"}, getByID(s.st.GetRunReport))
	s.add(route{Method: get, Path: "/api/runs/:id/artifacts", Tag: "runs", Summary: "Artifacts of a run", Array: true,
		Query: []string{"limit", "offset"}}, subList(s.st.ListRunArtifacts))

	s.add(route{Method: get, Path: "/api/jobs", Tag: "jobs", Summary: "List jobs (bare array)", Array: true,
		Query: []string{"run", "status", "task_type", "limit", "offset"}}, s.listJobs)
	s.add(route{Method: get, Path: "/api/jobs/:id", Tag: "jobs", Summary: "Job detail with attempts[]"}, getByID(s.st.GetJobDetail))

	s.add(route{Method: get, Path: "/api/findings", Tag: "findings", Summary: "log_triage findings, newest first",
		Query: append([]string{"host", "container", "severity", "since"}, pageQuery...)}, s.listFindings)

	s.crud("/api/schedules", "schedules", "Schedule", s.schedules(), "kind", "enabled")
	s.add(route{Method: post, Path: "/api/schedules/:id/run-now", Tag: "schedules", Summary: "Create a run due now; answers {run_id}", Status: http.StatusCreated}, s.runScheduleNow)
	s.add(route{Method: post, Path: "/api/schedules/:id/enable", Tag: "schedules", Summary: "Enable a schedule"}, s.setScheduleEnabled(true))
	s.add(route{Method: post, Path: "/api/schedules/:id/disable", Tag: "schedules", Summary: "Disable a schedule"}, s.setScheduleEnabled(false))
	s.add(route{Method: get, Path: "/api/schedules/:id/history", Tag: "schedules", Summary: "ScheduledRuns of a schedule, newest first",
		Query: []string{"limit", "offset"}}, s.scheduleHistory)
	s.add(route{Method: get, Path: "/api/scheduled-runs", Tag: "scheduled-runs", Summary: "List ScheduledRuns (bare array)", Array: true,
		Query: []string{"run", "schedule", "status", "limit", "offset"}}, s.listScheduledRuns)

	s.crud("/api/tasks", "tasks", "Task", s.tasks())
	s.crud("/api/container-allowlist", "container-allowlist", "AllowlistEntry", s.allowlist())
	s.crud("/api/worker-hosts", "worker-hosts", "WorkerHost", s.hosts())
	s.add(route{Method: get, Path: "/api/worker-hosts/:id/health", Tag: "worker-hosts", Summary: "Stored health; ?check=true pings the engine and records it",
		Query: []string{"check"}}, s.hostHealthCheck)

	s.add(route{Method: get, Path: "/api/artifacts/:id", Tag: "artifacts", Summary: "Artifact metadata"}, getByID(s.artifactMeta))
	s.add(route{Method: get, Path: "/api/artifacts/:id/download", Tag: "artifacts", Summary: "Artifact bytes with their content type"}, s.downloadArtifact)
	s.crud("/api/notification-channels", "notification-channels", "NotificationChannel", s.channels())
	s.add(route{Method: post, Path: "/api/notification-channels/:id/test", Tag: "notification-channels",
		Summary: "Send a test message now; answers with the recorded delivery"}, s.testChannel)
	s.crud("/api/notification-rules", "notification-rules", "NotificationRule", s.rules())
	s.add(route{Method: get, Path: "/api/notification-deliveries", Tag: "notification-deliveries",
		Summary: "Outbox deliveries with their attempts, newest first",
		Query:   append([]string{"status", "channel", "event"}, pageQuery...)}, s.listDeliveries)

	s.add(route{Method: get, Path: "/api/token-stats", Tag: "token-stats", Summary: "LLM token totals, overall and per model (never text)"}, s.tokenStats)
}
