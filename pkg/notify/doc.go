// Package notify turns outbox rows into messages and sends them: a generic
// JSON webhook (HMAC-signed when the channel has a secret), Slack and
// Discord webhooks, ntfy topics and e-mail over SMTP. Its Deliverer is the
// scheduler component that claims due deliveries (SKIP LOCKED, a lease,
// fenced writes), sends them with bounded timeouts and retries them with
// exponential backoff.
//
// Which events become deliveries is decided in SQL by the store, in the
// transaction that causes each event; this package never decides it, so a
// message exists if and only if its event committed.
package notify
