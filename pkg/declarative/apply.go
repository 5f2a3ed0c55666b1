package declarative

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/cyberbrain/cyberbrain/pkg/client"
)

// Apply carries the plan out: creates and updates in dependency order
// (hosts and directives before the schedules naming them), then deletes in
// reverse order. done is called after each change. It stops at the first
// error, which names the change; what was done before stays done, and a
// second apply picks up from there.
func (p *Plan) Apply(ctx context.Context, c *client.Client, done func(Change)) error {
	var deletes []Change
	for _, ch := range p.Changes {
		if ch.Action == Delete {
			deletes = append(deletes, ch)
			continue
		}
		if err := p.do(ctx, c, ch); err != nil {
			return err
		}
		if done != nil {
			done(ch)
		}
	}
	slices.Reverse(deletes) // schedules and allow-list entries before what they name
	for _, ch := range deletes {
		if err := p.do(ctx, c, ch); err != nil {
			return err
		}
		if done != nil {
			done(ch)
		}
	}
	return nil
}

func (p *Plan) do(ctx context.Context, c *client.Client, ch Change) error {
	k := kindOf(ch.Kind)
	if ch.Action == Delete {
		if err := c.Do(ctx, http.MethodDelete, client.Item(k.path, ch.ID), nil, nil, nil); err != nil {
			return fmt.Errorf("delete %s: %w", ch.Label, err)
		}
		return nil
	}
	body, err := p.st.toAPI(k, ch.Fields)
	if err != nil {
		return fmt.Errorf("%s %s: %w", ch.Action, ch.Label, err)
	}
	if ch.Action == Update {
		if err := c.Do(ctx, http.MethodPatch, client.Item(k.path, ch.ID), nil, body, nil); err != nil {
			return fmt.Errorf("update %s: %w", ch.Label, err)
		}
		return nil
	}
	var created struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	var raw json.RawMessage
	if err := c.Do(ctx, http.MethodPost, k.path, nil, body, &raw); err != nil {
		return fmt.Errorf("create %s: %w", ch.Label, err)
	}
	if err := json.Unmarshal(raw, &created); err != nil {
		return fmt.Errorf("create %s: decode answer: %w", ch.Label, err)
	}
	if created.Name != "" {
		p.st.remember(k.section, created.Name, created.ID) // later changes may name it
	}
	return nil
}
