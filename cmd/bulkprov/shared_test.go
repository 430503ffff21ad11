package main

import (
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/transform"
)

// A data/User row and a cupi/User row for the same alias both write that
// Unity Connection user and its password: refused up front, not raced.
func TestSharedObjectsAcrossModels(t *testing.T) {
	rec := func(model string, row int, fields map[string]any) transform.Row {
		r := &loader.Record{Model: model, Action: loader.Add, Hierarchy: "sys.hcs.CS-P.CS-NB.AAAGlobal",
			Loc: loader.Location{File: "in.xlsx", Sheet: model, Row: row}, Fields: fields}
		return transform.Map(r, &transform.Config{}, transform.Options{})
	}
	vossUser := rec("data/User", 5, map[string]any{"username": "jdoe", "role": "Help Desk Administrator", "password": "Long-Enough-1", "DtmfAccessId": "5001"})
	cupiUser := rec("cupi/User", 7, map[string]any{"Alias": "JDoe", "DtmfAccessId": "5001"})
	other := rec("cupi/User", 8, map[string]any{"Alias": "someone", "DtmfAccessId": "5002"})
	tests := []struct {
		name string
		rows []transform.Row
		want int
	}{
		{"one row per object", []transform.Row{vossUser, other}, 0},
		{"data/User and cupi/User for one alias", []transform.Row{vossUser, cupiUser, other}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sharedObjects(tc.rows)
			if len(got) != tc.want {
				t.Fatalf("sharedObjects = %q, want %d", got, tc.want)
			}
			if tc.want > 0 && (!strings.Contains(got[0], "in.xlsx:cupi/User:7") || !strings.Contains(got[0], "in.xlsx:data/User:5")) {
				t.Errorf("message %q does not name both rows", got[0])
			}
		})
	}
}
