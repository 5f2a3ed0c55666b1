package tasks

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

// fakeLLM is a minimal OpenAI-compatible /v1/chat/completions server.
type fakeLLM struct {
	mu      sync.Mutex
	prompts []string
	auth    string
}

const llmAnswer = "- The database at the masked address refuses connections: check the db container first. ANSWER-MARK-7731"

func (f *fakeLLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.prompts = append(f.prompts, req.Messages[0].Content)
	f.auth = r.Header.Get("Authorization")
	f.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "message": map[string]string{"role": "assistant", "content": llmAnswer}, "finish_reason": "stop"}},
		"usage":   map[string]int{"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366},
	})
}

// TestLogTriageLLMSummary (acceptance 4): the answer is in the report, token
// counts are in llm_calls, and the prompt is in no column of the database.
func TestLogTriageLLMSummary(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := newTaskDB(t, "log_triage", "")
	app := unique("cb-app")
	f.start(t, app, nil, false)
	d.allow(t, &d.host.ID, app)
	llm := &fakeLLM{}
	srv := httptest.NewServer(llm)
	t.Cleanup(srv.Close)

	cfg := LLMConfig{URL: srv.URL, Model: "test-model", APIKey: "sk-test-key", Timeout: 10 * time.Second}
	res := d.run(t, LogTriage(testPool, cfg), &d.host, d.job)

	llm.mu.Lock()
	prompts, auth := llm.prompts, llm.auth
	llm.mu.Unlock()
	if len(prompts) != 1 {
		t.Fatalf("LLM called %d times, want 1", len(prompts))
	}
	prompt := prompts[0]
	if auth != "Bearer sk-test-key" {
		t.Errorf("Authorization = %q", auth)
	}
	if !strings.Contains(prompt, "failed to connect to db <*>") || strings.Contains(prompt, "10.0.0.1:5432") {
		t.Errorf("prompt should hold masked templates only:\n%s", prompt)
	}
	if !strings.Contains(res.ReportMarkdown, "ANSWER-MARK-7731") {
		t.Errorf("report lacks the LLM answer:\n%s", res.ReportMarkdown)
	}

	var calls []store.LLMCall
	if err := testenv.SQL(d.t, d.st).Where("job_id = ?", d.job.ID).Find(&calls).Error; err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].PromptTokens != 321 || calls[0].CompletionTokens != 45 || calls[0].TotalTokens != 366 ||
		calls[0].Model != "test-model" || calls[0].Endpoint != srv.URL+"/v1/chat/completions" {
		t.Errorf("llm_calls = %+v", calls)
	}

	// Every text, json and bytea column of every table: the prompt (and its
	// instruction, which is nowhere else) must be absent; the answer may only
	// be in the report artifact.
	instruction := strings.SplitN(prompt, "\n", 2)[0]
	for _, hit := range grepDatabase(t, d.st, prompt, instruction, "sk-test-key") {
		t.Errorf("prompt text or API key stored in %s", hit)
	}
	for _, hit := range grepDatabase(t, d.st, "ANSWER-MARK-7731") {
		if hit != "artifacts.content" {
			t.Errorf("LLM answer stored in %s (only the report may hold it)", hit)
		}
	}
}

// grepDatabase returns table.column for every text-like column holding any
// of the needles.
func grepDatabase(t *testing.T, st *store.Store, needles ...string) []string {
	t.Helper()
	ctx := context.Background()
	var cols []struct {
		TableName  string
		ColumnName string
		DataType   string
	}
	err := testenv.SQL(t, st).WithContext(ctx).Raw(`
SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea')`).Scan(&cols).Error
	if err != nil || len(cols) == 0 {
		t.Fatalf("list columns: %v (%d)", err, len(cols))
	}
	var hits []string
	for _, c := range cols {
		expr := `"` + c.ColumnName + `"::text`
		if c.DataType == "bytea" {
			expr = `convert_from("` + c.ColumnName + `", 'UTF8')`
		}
		for _, n := range needles {
			var count int64
			q := `SELECT count(*) FROM "` + c.TableName + `" WHERE strpos(` + expr + `, ?) > 0`
			if err := testenv.SQL(t, st).WithContext(ctx).Raw(q, n).Scan(&count).Error; err != nil {
				t.Fatalf("grep %s.%s: %v", c.TableName, c.ColumnName, err)
			}
			if count > 0 {
				hits = append(hits, c.TableName+"."+c.ColumnName)
				break
			}
		}
	}
	return hits
}

func TestLLMEndpointURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://llm:8080":                         "http://llm:8080/v1/chat/completions",
		"http://llm:8080/v1/":                     "http://llm:8080/v1/chat/completions",
		"https://api.example/v1/chat/completions": "https://api.example/v1/chat/completions",
	} {
		if got := (LLMConfig{URL: in}).endpoint(); got != want {
			t.Errorf("endpoint(%q) = %q, want %q", in, got, want)
		}
	}
	if got := redactURL("https://user:pw@api.example/v1?key=abc"); got != "https://api.example/v1" {
		t.Errorf("redactURL = %q", got)
	}
}
