package store

import (
	"context"
	"fmt"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
)

// ListWorkerHosts returns one page of worker hosts (TLS material is never
// serialised: the model's tls_* fields are json:"-").
func (s *Store) ListWorkerHosts(ctx context.Context, p ListParams) (*PageRows[WorkerHost], error) {
	return listRows[WorkerHost](ctx, s.db.Model(&WorkerHost{}), s.db.Model(&WorkerHost{}), p, true, "worker hosts")
}

// GetWorkerHost loads one worker host.
func (s *Store) GetWorkerHost(ctx context.Context, id int64) (*WorkerHost, error) {
	return getRow[WorkerHost](ctx, s.db, id, "worker host", "Worker host not found")
}

// SaveWorkerHost inserts (ID 0) or updates a worker host's configuration.
// Health columns are written only by health checks (RecordHostHealth).
func (s *Store) SaveWorkerHost(ctx context.Context, h *WorkerHost) error {
	db := s.db.WithContext(ctx)
	args := []any{h.Name, h.Type, h.BaseURL, h.TLSCA, h.TLSCert, h.TLSKey, h.TLSVerify, string(h.Capabilities), h.Enabled}
	var err error
	if h.ID == 0 {
		err = db.Raw(`INSERT INTO worker_hosts (name, type, base_url, tls_ca, tls_cert, tls_key, tls_verify,
			capabilities, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?) RETURNING *`, args...).Scan(h).Error
	} else {
		res := db.Raw(`UPDATE worker_hosts SET name = ?, type = ?, base_url = ?, tls_ca = ?, tls_cert = ?, tls_key = ?,
			tls_verify = ?, capabilities = ?::jsonb, enabled = ?, updated_at = now() WHERE id = ? RETURNING *`,
			append(args, h.ID)...).Scan(h)
		if res.Error == nil && res.RowsAffected == 0 {
			return domain.NotFound("Worker host not found")
		}
		err = res.Error
	}
	return hostErr(err, h.Name)
}

// DeleteWorkerHost deletes a host no run, job, schedule or allow-list entry
// references.
func (s *Store) DeleteWorkerHost(ctx context.Context, id int64) error {
	return deleteRow(ctx, s.db, "worker_hosts", id, "Worker host not found", func(err error) error { return hostErr(err, "") })
}

func hostErr(err error, name string) error {
	return clientDBError(err, "write worker host",
		fmt.Sprintf("a worker host named %q already exists", name),
		"worker host is referenced by runs, jobs, schedules or allow-list entries; disable it instead of deleting it")
}
