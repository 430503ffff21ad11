// Package fuzz holds the loader's fuzz targets in a test binary of their
// own: without the workbook-writing test helpers (excelize) linked in,
// coverage-guided fuzzing runs hundreds of times faster.
package fuzz

import (
	"archive/zip"
	"bytes"
	"os"
	"testing"

	"github.com/bulkprov/bulkprov/loader"
)

// read reads data as an input named name, from memory, under small limits
// (64 KiB uncompressed keeps each input fast): whatever the bytes, the
// reader must not panic. Reading from memory rather than a temporary file
// keeps an execution in microseconds, which matters most while the engine
// minimizes an interesting input (thousands of executions in a row).
func read(t *testing.T, name string, data []byte) {
	o := loader.Options{Limits: loader.Limits{MaxBytes: 64 << 10, MaxRows: 2000, MaxColumns: 200, MaxCellChars: 32767, MaxJSONDepth: 64}, Model: "data/User", Hierarchy: "sys"}
	c := loader.NewChecker()
	_ = loader.ReadFrom(name, bytes.NewReader(data), int64(len(data)), o, func(r *loader.Record) error { c.Check(r); return nil }, func(loader.Problem) {})
}

func seed(f *testing.F, paths ...string) {
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// stored builds a zip whose entries are stored uncompressed, so the fuzzer
// mutates the XML and JSON text itself: a mutated deflate stream mostly
// inflates to garbage up to the byte limit, which under coverage
// instrumentation costs about a second an input and finds little.
func stored(entries ...string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(entries); i += 2 {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: entries[i], Method: zip.Store})
		_, _ = w.Write([]byte(entries[i+1]))
	}
	_ = zw.Close()
	return b.Bytes()
}

// minimalXLSX is a small workbook with shared strings, a date style, a
// boolean, an inline string and a formula.
func minimalXLSX() []byte {
	return stored(
		"xl/workbook.xml", `<workbook><sheets><sheet name="s" r:id="rId1" xmlns:r="r"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels", `<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/sharedStrings.xml", `<sst><si><t>entity: data/User; hierarchy: sys</t></si><si><t>username</t></si><si><t>role</t></si><si><r><t>u</t></r><r><t>1</t></r></si></sst>`,
		"xl/styles.xml", `<styleSheet><numFmts><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>`,
		"xl/worksheets/sheet1.xml", `<worksheet><dimension ref="A1:E5"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>`+
			`<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="s"><v>2</v></c><c r="C2" t="inlineStr"><is><t>account_information.locked</t></is></c><c r="D2" t="inlineStr"><is><t>account_information.failed_login_lock_date</t></is></c><c r="E2" t="inlineStr"><is><t>email</t></is></c></row>`+
			`<row r="5"><c r="A5" t="s"><v>3</v></c><c r="B5" t="str"><v>R</v></c><c r="C5" t="b"><v>1</v></c><c r="D5" s="1"><v>45322.5</v></c><c r="E5"><f>1+1</f><v>2</v></c></row></sheetData></worksheet>`,
	)
}

func FuzzXLSX(f *testing.F) {
	f.Add(minimalXLSX())
	seed(f, "../testdata/realworld/libreoffice-users.xlsx", "../testdata/realworld/excelize-stream.xlsx", "../testdata/realworld/openpyxl.xlsx")
	f.Fuzz(func(t *testing.T, data []byte) { read(t, "f.xlsx", data) })
}

func FuzzCSV(f *testing.F) {
	seed(f, "../../samples/users.csv", "../../samples/bad/cupi.csv")
	f.Add([]byte("username;role\nu;r\n"))
	seed(f, "../testdata/realworld/libreoffice-export.csv", "../testdata/realworld/voss-cupi-user.csv")
	f.Fuzz(func(t *testing.T, data []byte) { read(t, "f.csv", data) })
}

func FuzzJSONZip(f *testing.F) {
	seed(f, "../testdata/realworld/macos-export.zip")
	f.Add(stored("e.json", `[{"meta":{"model_type":"data/User","hierarchy":"sys"},"data":{"username":"u","role":"R","account_information":{"locked":true,"security_questions":[{"question":"q","answer":"a"}]}}}]`))
	f.Add(stored("e.json", `{"resources":[{"pkid":"1","meta":{"model_type":"relation/HcsAdminUserREL"},"data":{"hcsUname":"a","hierarchy_path":"sys","AdminUser":{"username":"a","role":"R"}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		read(t, "f.zip", data)
		read(t, "f.json", data)
	})
}
