package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// A saved plan reads back as it was written, operation by operation and
// without the operations' changes (apply --plan compares ids,
// fingerprints and actions); an empty plan and a file that is no plan
// are told apart.
func TestSavePlanLoadPlan(t *testing.T) {
	dir := t.TempDir()
	p := &engine.Plan{Version: 1, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Targets: "voss=https://v cupi=https://c",
		Inputs: []engine.Input{{Path: "users.xlsx", SHA256: "ab12", Size: 7}}, Reads: map[string]int{"voss": 3}}
	for i, key := range []string{"u1", "u<2>&", "u3"} {
		p.Ops = append(p.Ops, &engine.Op{ID: key + "-id", Row: i, Source: &engine.Source{File: "users.xlsx", Sheet: "s", Row: i + 3}, Target: "cupi",
			Kind: engine.KindCUPIUser, Key: key, Action: engine.Create, Status: engine.Planned, Fingerprint: engine.Fingerprint([]byte("f-" + key + "-------")[:8]), Alias: key,
			Changes: []engine.Change{{Field: "Alias", New: key}, {Field: "Credentials", New: engine.SecretMarker, Secret: true}}})
	}
	path := filepath.Join(dir, "plan.json")
	if _, err := savePlan(path, p); err != nil {
		t.Fatal(err)
	}
	got, err := loadPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range p.Ops {
		op.Changes = nil
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("read back %+v\nwant %+v", got, p)
	}
	empty := &engine.Plan{Version: 1}
	if _, err := savePlan(path, empty); err != nil {
		t.Fatal(err)
	}
	if got, err := loadPlan(path); err != nil || len(got.Ops) != 0 || got.Version != 1 {
		t.Errorf("empty plan: %+v, %v", got, err)
	}
	for _, bad := range []string{`[1]`, `{"version": 1, "operations": [{"id": 1}]}`, `{"version": 1, "operations": [`, `{"version": 2}`} {
		_ = os.WriteFile(path, []byte(bad), 0o600)
		if _, err := loadPlan(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// A plan file written by an earlier version reads: an operation that
// failed before its object was read (a hierarchy that does not exist, say)
// has the fingerprint "", and its action and status are names.
func TestLoadPlanOfEarlierVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	old := `{"version":1,"created":"2026-11-23T11:55:00Z","targets":"voss=http://v cupi=http://c","operations":[
{"id":"a1","row_index":0,"source":{"file":"good.csv","row":4},"target":"voss","kind":"data/User","key":"h/u1","action":"create","changes":[{"field":"username","old":null,"new":"u1"}],"status":"planned","fingerprint":"74234e98afe7498f","model":"data/User","hierarchy":"h"},
{"id":"b2","row_index":1,"source":{"file":"bad.csv","row":4},"target":"voss","kind":"data/User","key":"nope/u2","action":"noop","status":"failed","error":"hierarchy nope does not exist on VOSS","fingerprint":""}]}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := loadPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Ops) != 2 || p.Ops[0].Fingerprint.String() != "74234e98afe7498f" || p.Ops[1].Fingerprint != (engine.Fingerprint{}) ||
		p.Ops[1].Action != engine.Noop || p.Ops[1].Status != engine.Failed {
		t.Fatalf("read %+v", p.Ops)
	}
	// Written again, the failed operation's fingerprint is "" as it was.
	if _, err := savePlan(path, p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(strings.ReplaceAll(string(b), " ", ""), `"fingerprint":""`) {
		t.Errorf("an operation without a fingerprint is written as %s", b)
	}
}
