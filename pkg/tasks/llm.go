package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// LLMConfig points log_triage at an OpenAI-compatible chat completions
// endpoint for an optional summary. Empty URL disables it.
type LLMConfig struct {
	// URL is the endpoint base (http://host:port or …/v1) or the full
	// …/chat/completions URL. Env CYBERBRAIN_LLM_URL.
	URL string
	// Model, env CYBERBRAIN_LLM_MODEL (default gpt-4o-mini).
	Model string
	// APIKey is sent as a Bearer token, env CYBERBRAIN_LLM_API_KEY. Never logged.
	APIKey string
	// Timeout of one request, env CYBERBRAIN_LLM_TIMEOUT (default 30s).
	Timeout time.Duration
	// Client is the HTTP client (tests); nil uses a default one.
	Client *http.Client
}

// LLMConfigFromEnv reads the CYBERBRAIN_LLM_* variables.
func LLMConfigFromEnv() LLMConfig {
	c := LLMConfig{
		URL:    strings.TrimSpace(os.Getenv("CYBERBRAIN_LLM_URL")),
		Model:  os.Getenv("CYBERBRAIN_LLM_MODEL"),
		APIKey: os.Getenv("CYBERBRAIN_LLM_API_KEY"),
	}
	if d, err := time.ParseDuration(os.Getenv("CYBERBRAIN_LLM_TIMEOUT")); err == nil && d > 0 {
		c.Timeout = d
	}
	return c
}

// Enabled reports whether an endpoint is configured.
func (c LLMConfig) Enabled() bool { return c.URL != "" }

func (c LLMConfig) endpoint() string {
	u := strings.TrimRight(c.URL, "/")
	switch {
	case strings.HasSuffix(u, "/chat/completions"):
		return u
	case strings.HasSuffix(u, "/v1"):
		return u + "/chat/completions"
	}
	return u + "/v1/chat/completions"
}

// llmResult is what the report keeps of a call: the answer (shown in the
// report, nowhere else) and counts. The prompt is never kept.
type llmResult struct {
	Model            string `json:"model"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	TotalTokens      int    `json:"total_tokens"`
	DurationMS       int    `json:"duration_ms"`
	Error            string `json:"error,omitempty"`
	Answer           string `json:"-"`
}

// summarize asks the endpoint for a summary and records the token counts in
// llm_calls. A failing endpoint never fails the task: the report says the
// summary is unavailable.
func summarize(ctx context.Context, env Env, c LLMConfig, prompt string) *llmResult {
	model := c.Model
	if model == "" {
		model = "gpt-4o-mini"
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	hc := c.Client
	if hc == nil {
		hc = &http.Client{}
	}
	res := &llmResult{Model: model}
	start := time.Now()
	answer, usage, err := chatCompletion(ctx, hc, c.endpoint(), c.APIKey, model, prompt, timeout)
	res.DurationMS = int(time.Since(start).Milliseconds())
	if err != nil {
		res.Error = err.Error()
		if env.Logger != nil {
			env.Logger.Warn("llm summary failed", zap.Int64("job_id", env.Job.ID), zap.Error(err))
		}
		return res
	}
	res.Answer = answer
	res.PromptTokens, res.CompletionTokens, res.TotalTokens = usage.PromptTokens, usage.CompletionTokens, usage.TotalTokens
	jobID := env.Job.ID
	var jid *int64
	if jobID != 0 {
		jid = &jobID
	}
	// Recorded at once, not with the job's completion: the tokens were spent
	// even if this attempt's result is later rejected.
	if err := env.LLMCalls.RecordLLMCall(ctx, &store.LLMCall{
		JobID: jid, Endpoint: redactURL(c.endpoint()), Model: model, PromptTokens: usage.PromptTokens,
		CompletionTokens: usage.CompletionTokens, TotalTokens: usage.TotalTokens, DurationMS: res.DurationMS,
	}); err != nil && env.Logger != nil {
		env.Logger.Warn("record llm call", zap.Int64("job_id", env.Job.ID), zap.Error(err))
	}
	return res
}

type llmUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func chatCompletion(ctx context.Context, hc *http.Client, endpoint, apiKey, model, prompt string, timeout time.Duration) (string, llmUsage, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, _ := json.Marshal(map[string]any{
		"model":       model,
		"messages":    []map[string]string{{"role": "user", "content": prompt}},
		"temperature": 0.2,
		"max_tokens":  400,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "", llmUsage{}, fmt.Errorf("llm request to %s: %w", redactURL(endpoint), err)
	}
	req.Header.Set("Content-Type", "application/json")
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", llmUsage{}, fmt.Errorf("llm request to %s: %w", redactURL(endpoint), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", llmUsage{}, fmt.Errorf("llm response from %s: %w", redactURL(endpoint), err)
	}
	if resp.StatusCode/100 != 2 {
		// The body may echo the prompt: report the status only.
		return "", llmUsage{}, fmt.Errorf("llm endpoint %s answered %s", redactURL(endpoint), resp.Status)
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Usage llmUsage `json:"usage"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", llmUsage{}, fmt.Errorf("llm endpoint %s: response is not chat completion JSON", redactURL(endpoint))
	}
	if len(out.Choices) == 0 || strings.TrimSpace(out.Choices[0].Message.Content) == "" {
		return "", out.Usage, fmt.Errorf("llm endpoint %s returned no answer", redactURL(endpoint))
	}
	return out.Choices[0].Message.Content, out.Usage, nil
}

// redactURL drops credentials and query from an endpoint before it is stored
// or logged.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid url)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
