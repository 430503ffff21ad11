package vossload

import (
	"archive/zip"
	"bytes"
	"testing"
)

// The client reads bulk export responses with the loader's export reader:
// the hierarchy comes from meta, then business_key, then hierarchy_path,
// and a second document after the first is not silently ignored.
func TestDecodeSharesTheLoaderDecoder(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("export.json")
	_, _ = w.Write([]byte(`[{"meta":{"model_type":"data/User","pkid":"p1","business_key":{"hierarchy":"sys.bk"}},"data":{"username":"a"}},` +
		`{"meta":{"pkid":"p2"},"data":{"username":"b","hierarchy_path":"sys.hp"}}]`))
	_ = zw.Close()
	got, err := Decode(b.Bytes(), "data/User")
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	if got[0].Hierarchy != "sys.bk" || got[0].Pkid != "p1" || got[1].Hierarchy != "sys.hp" || got[1].Model != "data/User" {
		t.Fatalf("instances %+v", got)
	}
	if _, err := Decode([]byte(`[] []`), "data/User"); err == nil {
		t.Fatal("a second JSON document was accepted")
	}
}

// A JSON export holds "the schema and" the instances (formats-and-apis
// 2): a schema that comes as its own entry of the zip, or under a schema
// key beside the items, is not an item and does not fail the export.
func TestDecodeSkipsTheSchema(t *testing.T) {
	schema := `{"$schema":"http://json-schema.org/draft-03/schema","type":"object","properties":{"username":{"type":"string"}},"schema_version":"2.1"}`
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("data_User_schema.json")
	_, _ = w.Write([]byte(schema))
	w, _ = zw.Create("export.json")
	_, _ = w.Write([]byte(`[{"pkid":"p1","meta":{"model_type":"data/User"},"data":{"username":"a"}}]`))
	_ = zw.Close()
	got, err := Decode(b.Bytes(), "data/User")
	if err != nil || len(got) != 1 || got[0].Pkid != "p1" {
		t.Fatalf("schema entry beside the items: %+v, %v", got, err)
	}
	got, err = Decode([]byte(`{"schema":`+schema+`,"data":[{"pkid":"p1","data":{"username":"a"}}]}`), "data/User")
	if err != nil || len(got) != 1 {
		t.Fatalf("schema key beside the items: %+v, %v", got, err)
	}
}
