package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Collections of the API, for List, Create, Patch and Delete.
const (
	Directives = "/api/directives/"
	Tasks      = "/api/tasks/"
	Schedules  = "/api/schedules/"
	Hosts      = "/api/worker-hosts/"
	Allowlist  = "/api/container-allowlist/"
	Runs       = "/api/runs/"
)

// Item is the path of one member of a collection.
func Item(collection string, id int64) string { return collection + strconv.FormatInt(id, 10) + "/" }

// List reads every page of a paginated collection into raw JSON objects,
// oldest first (ordering=id), so that exports come out in a stable order.
func List(ctx context.Context, c *Client, collection string, query url.Values) ([]json.RawMessage, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("page_size", "1000")
	if q.Get("ordering") == "" {
		q.Set("ordering", "id")
	}
	var all []json.RawMessage
	for page := 1; ; page++ {
		q.Set("page", strconv.Itoa(page))
		var p Page[json.RawMessage]
		if err := c.Do(ctx, http.MethodGet, collection, q, nil, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Results...)
		if p.Next == nil || len(p.Results) == 0 {
			return all, nil
		}
	}
}

// ListAs is List decoded into T.
func ListAs[T any](ctx context.Context, c *Client, collection string, query url.Values) ([]T, error) {
	raw, err := List(ctx, c, collection, query)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			return nil, fmt.Errorf("decode %s item: %w", collection, err)
		}
	}
	return out, nil
}

// LaunchRequest is the body of POST /api/runs/launch/.
type LaunchRequest struct {
	DirectiveID  *int64   `json:"directive_id,omitempty"`
	Tasks        []string `json:"tasks,omitempty"`
	TargetHostID *int64   `json:"target_host_id,omitempty"`
}

// Launch starts a run and returns its detail.
func (c *Client) Launch(ctx context.Context, req LaunchRequest) (*Run, error) {
	var r Run
	if err := c.Do(ctx, http.MethodPost, "/api/runs/launch/", nil, req, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Run reads a run's detail.
func (c *Client) Run(ctx context.Context, id int64) (*Run, error) {
	var r Run
	if err := c.Do(ctx, http.MethodGet, Item(Runs, id), nil, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Report reads a run's report.
func (c *Client) Report(ctx context.Context, id int64) (*Report, error) {
	var r Report
	if err := c.Do(ctx, http.MethodGet, Item(Runs, id)+"report/", nil, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
