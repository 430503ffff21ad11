package loader

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzRead writes data to a file named name and reads it under small
// limits: whatever the bytes, the reader must not panic.
func fuzzRead(t *testing.T, name string, data []byte) {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	o := Options{Limits: Limits{MaxBytes: 8 << 20, MaxRows: 10000, MaxColumns: 1000, MaxCellChars: 32767, MaxJSONDepth: 64}, Model: "data/User", Hierarchy: "sys"}
	c := NewChecker()
	_ = Read(p, o, func(r *Record) error { c.Check(r); return nil }, func(Problem) {})
}

func seed(f *testing.F, paths ...string) {
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzXLSX(f *testing.F) {
	seed(f, "../samples/tenant.xlsx", "../samples/bad/errors.xlsx", "testdata/libreoffice.xlsx")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "f.xlsx", data) })
}

func FuzzCSV(f *testing.F) {
	seed(f, "../samples/users.csv", "../samples/bad/cupi.csv")
	f.Add([]byte("username;role\nu;r\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "f.csv", data) })
}

func FuzzJSONZip(f *testing.F) {
	seed(f, "../samples/tenant.json.zip", "../samples/bad/items.json.zip", "../samples/bad/deep.json.zip")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, "f.zip", data)
		fuzzRead(t, "f.json", data)
	})
}
