// Package fuzz holds the loader's fuzz targets in a test binary of their
// own: without the workbook-writing test helpers (excelize) linked in,
// coverage-guided fuzzing runs hundreds of times faster.
package fuzz

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bulkprov/bulkprov/loader"
)

// read writes data to a file named name and reads it under small limits:
// whatever the bytes, the reader must not panic.
func read(t *testing.T, name string, data []byte) {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	o := loader.Options{Limits: loader.Limits{MaxBytes: 1 << 20, MaxRows: 2000, MaxColumns: 200, MaxCellChars: 32767, MaxJSONDepth: 64}, Model: "data/User", Hierarchy: "sys"}
	c := loader.NewChecker()
	_ = loader.Read(p, o, func(r *loader.Record) error { c.Check(r); return nil }, func(loader.Problem) {})
}

func seed(f *testing.F, paths ...string) {
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzXLSX(f *testing.F) {
	seed(f, "../../samples/tenant.xlsx", "../../samples/bad/errors.xlsx", "../testdata/libreoffice.xlsx")
	f.Fuzz(func(t *testing.T, data []byte) { read(t, "f.xlsx", data) })
}

func FuzzCSV(f *testing.F) {
	seed(f, "../../samples/users.csv", "../../samples/bad/cupi.csv")
	f.Add([]byte("username;role\nu;r\n"))
	f.Fuzz(func(t *testing.T, data []byte) { read(t, "f.csv", data) })
}

func FuzzJSONZip(f *testing.F) {
	seed(f, "../../samples/tenant.json.zip", "../../samples/bad/items.json.zip", "../../samples/bad/deep.json.zip")
	f.Fuzz(func(t *testing.T, data []byte) {
		read(t, "f.zip", data)
		read(t, "f.json", data)
	})
}
