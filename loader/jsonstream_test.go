package loader

import (
	"runtime"
	"strings"
	"testing"
)

// The items of a JSON export are decoded one at a time: a small zip of
// millions of tiny items ({"data":{}}, 11 bytes each, well inside the
// byte limit) decoded whole held a tree twenty times its size (2.8 GB
// for a 93 KB zip).
func TestJSONItemsStream(t *testing.T) {
	const n = 100000
	item := `{"data":{"username":"u","role":"R","first_name":"abcdefgh"}}`
	for _, tc := range []struct{ name, doc string }{
		{"list", "[" + strings.Repeat(item+",", n-1) + item + "]"},
		{"wrapped", `{"meta":{},"data":[` + strings.Repeat(item+",", n-1) + item + "]}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := zipOf(t, map[string]string{"e.json": tc.doc})
			var before, at runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			count := 0
			err := Read(path, Options{Model: "data/User", Hierarchy: "sys.A"}, func(r *Record) error {
				if count++; count == n/2 {
					runtime.GC()
					runtime.ReadMemStats(&at)
				}
				return nil
			}, func(p Problem) { t.Errorf("problem %v", p) })
			if err != nil || count != n {
				t.Fatalf("%d items, err %v", count, err)
			}
			grew := int64(at.HeapAlloc) - int64(before.HeapAlloc)
			if limit := int64(4 * len(tc.doc)); grew > limit {
				t.Fatalf("live heap grew by %d bytes reading a %d-byte document (limit %d): the items are held whole", grew, len(tc.doc), limit)
			}
		})
	}
}

// A null in an export's data is a field without a value, as a database
// export writes a field never set (a last login time before the first
// login): it is left out, not refused as a value of the wrong type, which
// failed the item and so the whole bulk export response of a live VOSS.
func TestJSONNullIsAbsent(t *testing.T) {
	doc := `[{"meta":{"model_type":"data/User","hierarchy":"sys.A"},"data":{"username":"u","role":"R","email":null,
	"account_information":{"locked":null,"last_login_time":null,"num_of_failed_login_attempts":null}}}]`
	recs, probs, err := readAll(t, zipOf(t, map[string]string{"e.json": doc}), Options{})
	if err != nil || len(probs) > 0 || len(recs) != 1 {
		t.Fatalf("%d records, err %v, problems %v", len(recs), err, probs)
	}
	f := recs[0].Fields
	if _, ok := f["email"]; ok {
		t.Errorf("email kept: %v", f)
	}
	if ai, _ := f["account_information"].(map[string]any); len(ai) != 0 {
		t.Errorf("account_information %v, want no fields", ai)
	}
}

// A JSON syntax error names where it is, by line and column: an export
// entry is megabytes long, and its location's item index is not the place.
func TestJSONSyntaxErrorPlace(t *testing.T) {
	doc := "[\n  {\"data\": {\"username\": \"a\"}},\n  {\"data\": {\"a\": tru}}\n]"
	_, probs, err := readAll(t, zipOf(t, map[string]string{"e.json": doc}), Options{Model: "data/User"})
	if err != nil || len(probs) != 1 || !strings.Contains(probs[0], ":e.json:0: not valid JSON at line 3, column 21: ") {
		t.Fatalf("err %v, problems %q", err, probs)
	}
}
