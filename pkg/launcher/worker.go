package launcher

import (
	"context"

	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// work takes batches until Stop, then inserts whatever is still queued.
func (b *Batcher) work() {
	defer b.wg.Done()
	for {
		select {
		case first := <-b.ch:
			b.run(b.collect(first))
		case <-b.stop:
			for {
				select {
				case first := <-b.ch:
					b.run(b.collect(first))
				default:
					return
				}
			}
		}
	}
}

// collect adds to first whatever else is queued, up to MaxBatch.
func (b *Batcher) collect(first item) []item {
	batch := []item{first}
	for len(batch) < b.cfg.MaxBatch {
		select {
		case it := <-b.ch:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}

// run inserts the batch's launches whose callers still wait and answers all.
func (b *Batcher) run(batch []item) {
	ctx, cancel := context.WithTimeout(b.base, b.cfg.Timeout)
	defer cancel()
	var reqs []store.LaunchRequest
	var waiting []item
	for _, it := range batch {
		if err := it.ctx.Err(); err != nil {
			it.reply <- store.LaunchResult{Err: err} // the client gave up before anything was written
			continue
		}
		reqs = append(reqs, it.req)
		waiting = append(waiting, it)
	}
	if len(reqs) == 0 {
		return
	}
	for i, res := range b.insert(ctx, reqs) {
		waiting[i].reply <- res
	}
}
