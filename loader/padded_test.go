package loader

import (
	"path/filepath"
	"reflect"
	"testing"
)

// A number cell whose format pads it with zeros (0000000, as an extension
// column is often formatted) is read as the sheet shows it and as the
// program's own CSV export writes it: 0001000, not 1000. The pair is one
// sheet saved by LibreOffice as .xlsx and as CSV.
func TestPaddedNumberAsShown(t *testing.T) {
	var got []map[string]any
	for _, f := range []string{"libreoffice-padded.xlsx", "libreoffice-padded.csv"} {
		recs, probs, err := readAll(t, filepath.Join("testdata", "realworld", f), Options{})
		if err != nil || len(probs) > 0 || len(recs) != 1 {
			t.Fatalf("%s: %d records, err %v, problems %v", f, len(recs), err, probs)
		}
		got = append(got, recs[0].Fields)
	}
	want := map[string]any{"Alias": "jdoe", "DtmfAccessId": "0001000"}
	for i, g := range got {
		if !reflect.DeepEqual(g, want) {
			t.Errorf("file %d: fields %v, want %v", i, g, want)
		}
	}
}
