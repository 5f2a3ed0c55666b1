package store

import (
	"reflect"
	"testing"
)

// The hand-written scan destinations follow the models' columns one for
// one, in order: a field added to Run, Schedule or Job without its destination
// (or one out of place) fails here, not at the first claim.
func TestScanFieldsFollowTheModels(t *testing.T) {
	var r Run
	var s Schedule
	var j Job
	for _, c := range []struct {
		model any
		dest  []any
	}{{&r, runFields(&r)}, {&s, scheduleFields(&s)}, {&j, jobFields(&j)}} {
		v := reflect.ValueOf(c.model).Elem()
		var cols []string
		for _, f := range modelFields(c.model) {
			if f.DBName != "" {
				cols = append(cols, f.DBName)
			}
		}
		if len(c.dest) != len(cols) {
			t.Fatalf("%T: %d scan destinations for %d columns %v", c.model, len(c.dest), len(cols), cols)
		}
		for i, f := range modelFields(c.model) {
			want := v.FieldByIndex(f.StructField.Index).Addr().Pointer()
			if got := reflect.ValueOf(c.dest[i]).Pointer(); got != want {
				t.Errorf("%T: destination %d is not the field of column %s", c.model, i, f.DBName)
			}
		}
	}
}
