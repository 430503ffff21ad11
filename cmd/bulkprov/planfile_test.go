package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/engine"
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
