package domain

import "slices"

// EventKind names what a notification rule reacts to.
type EventKind string

// The events rules may subscribe to. EventTest is the API's test message;
// no rule matches it.
const (
	EventRunFailed      EventKind = "run_failed"
	EventJobAttemptLost EventKind = "job_attempt_lost"
	EventHostUnhealthy  EventKind = "host_unhealthy"
	EventHostRecovered  EventKind = "host_recovered"
	EventGPUHotspot     EventKind = "gpu_hotspot"
	EventFinding        EventKind = "finding"
	EventTest           EventKind = "test"
	EventDigest         EventKind = "digest"
)

// EventKinds lists the events a rule may name.
var EventKinds = []EventKind{EventRunFailed, EventJobAttemptLost, EventHostUnhealthy, EventHostRecovered,
	EventGPUHotspot, EventFinding}

// Valid reports whether k is one of EventKinds.
func (k EventKind) Valid() bool { return slices.Contains(EventKinds, k) }

// ChannelKind is how a channel delivers.
type ChannelKind string

// Channel kinds.
const (
	ChannelWebhook ChannelKind = "webhook"
	ChannelSlack   ChannelKind = "slack"
	ChannelDiscord ChannelKind = "discord"
	ChannelNtfy    ChannelKind = "ntfy"
	ChannelEmail   ChannelKind = "email"
)

// ChannelKinds lists every channel kind.
var ChannelKinds = []ChannelKind{ChannelWebhook, ChannelSlack, ChannelDiscord, ChannelNtfy, ChannelEmail}

// Valid reports whether k is one of ChannelKinds.
func (k ChannelKind) Valid() bool { return slices.Contains(ChannelKinds, k) }

// DeliveryStatus is the state of one outbox row: pending → sending →
// sent, or back to pending for a retry, or failed once no attempt is left.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending DeliveryStatus = "pending"
	DeliverySending DeliveryStatus = "sending"
	DeliverySent    DeliveryStatus = "sent"
	DeliveryFailed  DeliveryStatus = "failed"
)

// DeliveryStatuses lists every delivery status.
var DeliveryStatuses = []DeliveryStatus{DeliveryPending, DeliverySending, DeliverySent, DeliveryFailed}

// DigestMode batches a rule's events into one summary per window.
type DigestMode string

// Digest modes; DigestNone sends one message per event.
const (
	DigestNone   DigestMode = ""
	DigestHourly DigestMode = "hourly"
	DigestDaily  DigestMode = "daily"
)

// DigestModes lists every digest mode.
var DigestModes = []DigestMode{DigestNone, DigestHourly, DigestDaily}

// Severities are the finding severities, most severe first.
var Severities = []string{"critical", "high", "medium", "low"}

// SeverityAtLeast reports whether severity s is at or above min; unknown
// values are below everything.
func SeverityAtLeast(s, min string) bool {
	i, j := slices.Index(Severities, s), slices.Index(Severities, min)
	return i >= 0 && j >= 0 && i <= j
}
