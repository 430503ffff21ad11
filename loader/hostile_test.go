package loader

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// deflated writes a zip of deflated entries (name, content pairs) to a
// temporary file and returns its path.
func deflated(t *testing.T, name string, entries ...string) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(entries); i += 2 {
		w, _ := zw.Create(entries[i])
		_, _ = w.Write([]byte(entries[i+1]))
	}
	_ = zw.Close()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// workbookParts are the parts of a one-sheet workbook but its sheet and
// shared strings.
func workbookParts(sheet, sst string) []string {
	parts := []string{
		"xl/workbook.xml", `<workbook><sheets><sheet name="s" r:id="rId1" xmlns:r="r"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels", `<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml", sheet,
	}
	if sst != "" {
		parts = append(parts, "xl/sharedStrings.xml", sst)
	}
	return parts
}

// Small workbooks whose XML would make a non-strict, uncounting decoder
// allocate gigabytes: each is refused, naming the limit, and reading it
// allocates a few MiB at most.
func TestHostileXML(t *testing.T) {
	rows := `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>entity: data/User; hierarchy: sys</t></is></c></row>`
	cell := `<row r="2"><c r="A2" t="inlineStr"><is>`
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"millions of nested unclosed elements", workbookParts(rows+cell+strings.Repeat("<a>", 3_000_000), ""), "--max-xml-depth"},
		{"millions of nested elements in sheetData", workbookParts(rows+strings.Repeat("<a>", 3_000_000), ""), "unexpected element <a> in sheetData"},
		{"an element flood in a row", workbookParts(rows+`<row r="2">`+strings.Repeat("<x/>", 3_000_000), ""), "unexpected element <x> in row 2"},
		{"an element flood after the cell data", workbookParts(rows+"</sheetData>"+strings.Repeat("<x/>", 3_000_000)+"</worksheet>", ""), "more than 1048576 elements outside the cell data"},
		{"shared strings of empty entries", workbookParts(rows+`</sheetData></worksheet>`, "<sst>"+strings.Repeat("<si/>", 2_000_000)+"</sst>"), "--max-shared-strings"},
		{"unclosed elements within the limit", workbookParts(rows+strings.Repeat("<a>", 10), ""), "not a valid xlsx workbook"},
		{"a text run without markup", workbookParts(rows+cell+"<t>"+strings.Repeat("x", 4<<20)+"</t></is></c></row></sheetData></worksheet>", ""), "--max-cell-chars"},
		{"an element flood in the shared strings", workbookParts(rows+`</sheetData></worksheet>`, "<sst><si>"+strings.Repeat("<x/>", 5_500_000)+"</si></sst>"), "--max-shared-strings"},
		{"an element flood in the workbook part", append([]string{"xl/workbook.xml", `<workbook><sheets><sheet name="s" r:id="rId1" xmlns:r="r"/></sheets>` + strings.Repeat("<x/>", 2_000_000) + `</workbook>`}, workbookParts(rows+`</sheetData></worksheet>`, "")[2:]...), "more than 1048576 XML elements"},
		{"rows out of order", workbookParts(rows+strings.Repeat(`<row r="1"/>`, 5)+`</sheetData></worksheet>`, ""), "row 1 after row 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := deflated(t, "hostile.xlsx", tc.parts...)
			o := Options{Limits: Limits{MaxSharedStrings: 1_000_000}}
			var err error
			peak := peakHeap(func() { _, _, err = readAll(t, p, o) })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			var le *LimitError
			if strings.HasPrefix(tc.want, "--") && !errors.As(err, &le) {
				t.Fatalf("not a LimitError: %v", err)
			}
			if peak > 64<<20 {
				t.Fatalf("reading took %d MiB of heap", peak>>20)
			}
		})
	}
}

// peakHeap runs fn and returns the most heap its objects occupied while it
// ran, sampled every millisecond, with the collector at GOGC=10 so that the
// figure tracks live data rather than garbage awaiting collection.
func peakHeap(fn func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var max uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v := read(); v > max {
				max = v
			}
			select {
			case <-done:
				peak <- max
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(done)
	if m := <-peak; m > base {
		return m - base
	}
	return 0
}
