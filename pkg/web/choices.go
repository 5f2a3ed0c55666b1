package web

import (
	"context"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// byName is the order and bound of the forms' choices (tasks, directives,
// hosts): by name, at most limit of them.
func byName(limit int) store.ListParams { return store.ListParams{Limit: limit, Ordering: "name"} }

// listAll reads one page of a store list in full.
func listAll[T any](ctx context.Context, p store.ListParams,
	list func(context.Context, store.ListParams) (*store.PageRows[T], error)) ([]T, error) {
	page, err := list(ctx, p)
	if err != nil {
		return nil, err
	}
	return page.All(ctx)
}
