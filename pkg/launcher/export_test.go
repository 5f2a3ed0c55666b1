package launcher

// Queued is how many launches wait for a worker.
func (b *Batcher) Queued() int { return len(b.ch) }

// WaitQueueChange blocks until a launch is queued after the last call.
func (b *Batcher) WaitQueueChange() { <-b.queued }
