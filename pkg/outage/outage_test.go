package outage

import (
	"errors"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// A thousand failures within a period make one warning, a reminder per
// period afterwards, and one info line when the outage ends.
func TestReporterLogsAnOutageOncePerPeriod(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.DebugLevel)
	r := New(zap.New(core), "database", 5*time.Second)
	clock := time.Unix(1000, 0)
	r.now = func() time.Time { return clock }
	r.OK() // no outage: nothing to say
	boom := errors.New("connection refused")
	for range 1000 {
		r.Fail(boom)
	}
	if !r.Down() || logs.Len() != 1 {
		t.Fatalf("down %v, %d lines after 1000 failures in one period: %v", r.Down(), logs.Len(), logs.All())
	}
	first := logs.All()[0]
	if first.Level != zapcore.WarnLevel || first.Message != "database unavailable" {
		t.Errorf("first line %s %q", first.Level, first.Message)
	}
	clock = clock.Add(6 * time.Second)
	r.Fail(boom)
	if logs.Len() != 2 || logs.All()[1].ContextMap()["failures"] != int64(1000) {
		t.Fatalf("reminder: %v", logs.All())
	}
	clock = clock.Add(time.Second)
	r.Fail(boom)
	r.OK()
	r.OK()
	end := logs.All()[logs.Len()-1]
	if logs.Len() != 3 || end.Level != zapcore.InfoLevel || end.Message != "database reachable again" ||
		end.ContextMap()["after"] != 7*time.Second {
		t.Errorf("end of outage: %v", logs.All())
	}
	if r.Down() {
		t.Error("still down after OK")
	}
	if New(zap.NewNop(), "x", 0).every != DefaultEvery {
		t.Error("a zero period does not default")
	}
}
