package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cyberbrain/cyberbrain/pkg/domain"
	"github.com/cyberbrain/cyberbrain/pkg/notify"
	"github.com/cyberbrain/cyberbrain/pkg/store"
)

// channelInput is a notification channel create/edit body. Secrets are
// merged key by key: an absent key keeps its stored value (a client cannot
// echo what GET never returns), "" or null removes it.
type channelInput struct {
	Name       Opt[string]                     `json:"name"`
	Kind       Opt[domain.ChannelKind]         `json:"kind"`
	Enabled    Opt[bool]                       `json:"enabled"`
	Settings   Opt[map[string]json.RawMessage] `json:"settings"`
	Secrets    Opt[map[string]json.RawMessage] `json:"secrets"`
	SecretsSet json.RawMessage                 `json:"secrets_set"` // read-only, ignored
	readOnly
}

func (in *channelInput) apply(c *store.NotificationChannel, full bool) error {
	if full {
		*c = store.NotificationChannel{ID: c.ID, Enabled: true, Kind: c.Kind, Settings: store.JSON(`{}`), Secrets: c.Secrets}
	}
	fields := map[string][]string{}
	if in.Name.Set {
		c.Name = in.Name.V
	}
	if in.Kind.Set {
		c.Kind = in.Kind.V
	}
	if in.Enabled.Set && !in.Enabled.Null {
		c.Enabled = in.Enabled.V
	}
	if in.Settings.Set {
		b, _ := json.Marshal(orEmpty(in.Settings.V))
		c.Settings = b
	}
	if in.Secrets.Set {
		c.Secrets = mergeSecrets(c.Secrets, in.Secrets.V)
	}
	if c.Name == "" || len(c.Name) > 200 {
		fields["name"] = []string{"required, at most 200 characters"}
	}
	for k, v := range notify.Validate(c.Kind, c.Settings, c.Secrets) {
		fields[k] = v
	}
	if len(fields) > 0 {
		return badRequest(fields, "invalid notification channel")
	}
	return nil
}

func orEmpty(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return map[string]json.RawMessage{}
	}
	return m
}

// mergeSecrets applies the given secret keys onto the stored ones.
func mergeSecrets(stored store.JSON, in map[string]json.RawMessage) store.JSON {
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal(stored, &m)
	for k, v := range in {
		if string(v) == "null" || string(v) == `""` {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// channels serves /api/notification-channels.
func (s *Server) channels() collection {
	return crud[store.NotificationChannel, channelInput]{
		list: s.st.ListNotificationChannels, get: s.st.GetNotificationChannel, create: s.st.SaveNotificationChannel,
		update: s.st.SaveNotificationChannel, remove: s.st.DeleteNotificationChannel, apply: (*channelInput).apply,
	}.collection(s)
}

// testChannel sends a test message through a channel now and answers with
// the recorded delivery (status, attempt with status code, error, duration).
func (s *Server) testChannel(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ch, err := s.st.GetNotificationChannel(ctx, id)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("test:channel:%d:%d", id, time.Now().UnixNano())
	env, _ := json.Marshal(store.Envelope{Event: domain.EventTest, Key: key, Subject: "test",
		OccurredAt: time.Now().UTC(), Data: json.RawMessage(`{}`)})
	d := store.Delivery{ChannelID: id, Event: domain.EventTest, EventKey: key, Subject: "test",
		IdempotencyKey: "cb-test-" + fmt.Sprint(time.Now().UnixNano()), Payload: env, Attempt: 1}
	sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r := s.sender().Send(sendCtx, ch, d)
	rec, err := s.st.RecordTestDelivery(ctx, id, d.IdempotencyKey, env, r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rec)
}

func (s *Server) sender() *notify.Sender {
	if s.cfg.Notifier != nil {
		return s.cfg.Notifier
	}
	return &notify.Sender{}
}

// ruleInput is a notification rule create/edit body.
type ruleInput struct {
	Name            Opt[string]            `json:"name"`
	Enabled         Opt[bool]              `json:"enabled"`
	Event           Opt[domain.EventKind]  `json:"event"`
	ChannelID       Opt[int64]             `json:"channel_id"`
	WorkerHostID    Opt[int64]             `json:"worker_host_id"`
	TaskType        Opt[string]            `json:"task_type"`
	ScheduleID      Opt[int64]             `json:"schedule_id"`
	MinSeverity     Opt[string]            `json:"min_severity"`
	CooldownSeconds Opt[int]               `json:"cooldown_seconds"`
	Digest          Opt[domain.DigestMode] `json:"digest"`
	readOnly
}

func (in *ruleInput) apply(r *store.NotificationRule, full bool) error {
	if full {
		*r = store.NotificationRule{ID: r.ID, Enabled: true, MinSeverity: "high"}
	}
	fields := map[string][]string{}
	bad := func(f, m string) { fields[f] = append(fields[f], m) }
	optID := func(o Opt[int64], dst **int64, name string) {
		if !o.Set {
			return
		}
		*dst = nil
		if !o.Null {
			if o.V <= 0 {
				bad(name, "must be a positive integer id (or null)")
			}
			v := o.V
			*dst = &v
		}
	}
	setIf(in.Name, &r.Name)
	setIf(in.Enabled, &r.Enabled)
	setIf(in.Event, &r.Event)
	setIf(in.ChannelID, &r.ChannelID)
	setIf(in.TaskType, &r.TaskType)
	setIf(in.MinSeverity, &r.MinSeverity)
	setIf(in.CooldownSeconds, &r.CooldownSeconds)
	setIf(in.Digest, &r.Digest)
	optID(in.WorkerHostID, &r.WorkerHostID, "worker_host_id")
	optID(in.ScheduleID, &r.ScheduleID, "schedule_id")
	if r.Name == "" || len(r.Name) > 200 {
		bad("name", "required, at most 200 characters")
	}
	if !r.Event.Valid() {
		bad("event", "must be one of "+strings.Join(domain.Strings(domain.EventKinds), ", "))
	}
	if r.ChannelID <= 0 {
		bad("channel_id", "required: a positive integer id")
	}
	if !slices.Contains(domain.Severities, r.MinSeverity) {
		bad("min_severity", "must be one of critical, high, medium, low")
	}
	if r.CooldownSeconds < 0 || r.CooldownSeconds > 7*24*3600 {
		bad("cooldown_seconds", "must be 0 to 604800 (a week)")
	}
	if !slices.Contains(domain.DigestModes, r.Digest) {
		bad("digest", `must be "", "hourly" or "daily"`)
	}
	if len(fields) > 0 {
		return badRequest(fields, "invalid notification rule")
	}
	return nil
}

// setIf copies a present, non-null field.
func setIf[T any](o Opt[T], dst *T) {
	if o.Set && !o.Null {
		*dst = o.V
	}
}

// rules serves /api/notification-rules.
func (s *Server) rules() collection {
	return crud[store.NotificationRule, ruleInput]{
		list: s.st.ListNotificationRules, get: s.st.GetNotificationRule, create: s.st.SaveNotificationRule,
		update: s.st.SaveNotificationRule, remove: s.st.DeleteNotificationRule, apply: (*ruleInput).apply,
	}.collection(s)
}

// listDeliveries serves the outbox, newest first, with every attempt:
// ?status=, ?channel= (id), ?event=.
func (s *Server) listDeliveries(c echo.Context) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	var f store.DeliveryFilter
	if f.ChannelID, err = idQuery(c, "channel"); err != nil {
		return err
	}
	if f.Status, err = enumQuery(c, "status", domain.DeliveryStatuses); err != nil {
		return err
	}
	events := append(slices.Clone(domain.EventKinds), domain.EventDigest, domain.EventTest)
	if f.Event, err = enumQuery(c, "event", events); err != nil {
		return err
	}
	items, n, err := s.st.ListDeliveries(c.Request().Context(), f, p)
	if err != nil {
		return err
	}
	return respondPage(s, c, items, n, p, page)
}
