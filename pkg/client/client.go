// Package client is a small Go client of cyberbrain's REST API, used by the
// `cyberbrain` command line. It speaks JSON, sends the bearer token when one
// is set, and turns every non-2xx answer into an *APIError that keeps the
// API's per-field messages.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one API server.
type Client struct {
	base    *url.URL
	token   string
	http    *http.Client
	timeout time.Duration
}

// New returns a client of the API at server (http://host:port, a bare
// host:port means http). token may be empty.
func New(server, token string) (*Client, error) {
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	u, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("invalid server %q: want http://host:port", server)
	}
	// Requests are small and answers quick; the timeout only stops a hung
	// server from hanging the CLI. Downloads (Stream) get no overall deadline.
	return &Client{base: u, token: token, http: &http.Client{}, timeout: 60 * time.Second}, nil
}

// Server is the base URL requests go to.
func (c *Client) Server() string { return c.base.Redacted() }

// Do sends one request: body (when not nil) as JSON, and decodes a 2xx answer
// into out (when not nil; a *json.RawMessage keeps the bytes as they came).
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Stream sends a GET and hands back the body of a 2xx answer (the caller
// closes it) with the answer's headers.
func (c *Client) Stream(ctx context.Context, path string) (io.ReadCloser, http.Header, error) {
	resp, err := c.send(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	return resp.Body, resp.Header, nil
}

func (c *Client) send(ctx context.Context, method, path string, query url.Values, body any) (*http.Response, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
		return nil, &UnreachableError{Server: c.Server(), Err: err}
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readAPIError(resp, method, path)
	}
	return resp, nil
}

// UnreachableError is a request that got no HTTP answer at all.
type UnreachableError struct {
	Server string
	Err    error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the API at %s: %v (is it running? set --server or CYBERBRAIN_SERVER)", e.Server, unwrapURLError(e.Err))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
