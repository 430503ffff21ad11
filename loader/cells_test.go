package loader

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// sheetXML builds a worksheet of inline-string header rows (entity row,
// column names, group row, title row) followed by rows, which are raw
// <row> elements from row 5 on, and any tail (such as <mergeCells>).
func sheetXML(cols []string, rows, tail string) string {
	var b strings.Builder
	b.WriteString(`<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>entity: data/User; hierarchy: sys.A</t></is></c></row><row r="2">`)
	for i, c := range cols {
		b.WriteString(`<c r="` + ColumnName(i+1) + `2" t="inlineStr"><is><t>` + c + `</t></is></c>`)
	}
	b.WriteString(`</row>` + rows + `</sheetData>` + tail + `</worksheet>`)
	return b.String()
}

// Cell values as other programs write them: each case is a sheet and the
// records (username → fields) or located problems it must give.
func TestCellsAsToolsWriteThem(t *testing.T) {
	cols := []string{"# Action", "username", "role", "account_information.locked", "email"}
	user := func(n int, extra string) string {
		r := itoa(n)
		return `<row r="` + r + `"><c r="B` + r + `" t="inlineStr"><is><t>u` + r + `</t></is></c><c r="C` + r + `" t="inlineStr"><is><t>R</t></is></c>` + extra + `</row>`
	}
	tests := []struct {
		name     string
		rows     string
		tail     string
		formulas string
		styles   string
		want     map[string]any // username -> account_information.locked
		problems []string
	}{
		{name: "LibreOffice booleans are constant formulas",
			rows: user(5, `<c r="D5" s="0" t="b"><f aca="false">TRUE()</f><v>1</v></c>`) + user(6, `<c r="D6" t="b"><f>FALSE()</f><v>0</v></c>`),
			want: map[string]any{"u5": true, "u6": false}},
		{name: "a formula is refused, recommending its saved value",
			rows:     user(5, `<c r="E5" t="str"><f>B5&amp;"@x.example"</f><v>u5@x.example</v></c>`),
			problems: []string{"F:s:5:E: formula cell: VOSS does not evaluate formulas; type the value itself, or pass --formulas cached to use the value saved with the file"},
			want:     map[string]any{"u5": nil}},
		{name: "a formula without a saved value is refused even with --formulas cached",
			rows: user(5, `<c r="E5" t="str"><f>B5&amp;"@x.example"</f></c>`), formulas: "cached",
			want:     map[string]any{"u5": nil},
			problems: []string{"F:s:5:E: formula cell with no saved value (the program that wrote the file did not calculate it): type the value itself"}},
		{name: "a cached formula value is read with --formulas cached",
			rows: user(5, `<c r="E5" t="str"><f>B5&amp;"@x.example"</f><v>u5@x.example</v></c>`), formulas: "cached",
			want: map[string]any{"u5": nil}},
		{name: "lost digits: a 16-digit number in a text field",
			rows: `<row r="5"><c r="B5" t="n"><v>1234567890123460</v></c><c r="C5" t="inlineStr"><is><t>R</t></is></c></row>` +
				`<row r="6"><c r="B6"><v>1.23456789012346E+15</v></c><c r="C6" t="inlineStr"><is><t>R</t></is></c></row>` +
				`<row r="7"><c r="B7"><v>999999999999999</v></c><c r="C7" t="inlineStr"><is><t>R</t></is></c></row>`,
			want: map[string]any{"1234567890123460": nil, "1.23456789012346E+15": nil, "999999999999999": nil},
			problems: []string{
				"F:s:5:B: the number 1234567890123460 has more digits than a spreadsheet number holds (15): its last digits are already lost; format the column as Text and type the value again",
				"F:s:6:B: the number 1.23456789012346E+15 has more digits than a spreadsheet number holds (15): its last digits are already lost; format the column as Text and type the value again",
			}},
		{name: "data in block rows 3-4 is refused at the cell",
			rows: `<row r="3"><c r="A3" t="inlineStr"><is><t>add</t></is></c><c r="B3" t="inlineStr"><is><t>early</t></is></c></row>` +
				`<row r="4"><c r="B4" t="inlineStr"><is><t>x</t></is></c><c r="D4" t="b"><v>1</v></c></row>` + user(5, ""),
			want: map[string]any{"u5": nil},
			problems: []string{
				"F:s:3:A: data in block row 3: rows 3 and 4 of a block hold titles and are never read; put the title rows back above the data",
				"F:s:4:D: data in block row 4: rows 3 and 4 of a block hold titles and are never read; put the title rows back above the data",
			}},
		{name: "titles in block rows 3-4 are not data",
			rows: `<row r="3"><c r="A3" t="inlineStr"><is><t>Base</t></is></c><c r="B3" t="inlineStr"><is><t>Attributes</t></is></c></row>` +
				`<row r="4"><c r="A4" t="inlineStr"><is><t># Action</t></is></c><c r="B4" t="inlineStr"><is><t>Username</t></is></c><c r="E4" t="inlineStr"><is><t>Email</t></is></c></row>` + user(5, ""),
			want: map[string]any{"u5": nil}},
		{name: "the phonetic guide of an inline string is not its text",
			rows: `<row r="5"><c r="B5" t="inlineStr"><is><r><t>山</t></r><r><t>田</t></r><rPh sb="0" eb="2"><t>ヤマダ</t></rPh><phoneticPr fontId="1"/></is></c><c r="C5" t="inlineStr"><is><t>R</t></is></c></row>`,
			want: map[string]any{"山田": nil}},
		{name: "a zero-padded number format pads a whole number however written",
			rows: `<row r="5"><c r="B5" s="1"><v>1000.0</v></c><c r="C5" t="inlineStr"><is><t>R</t></is></c></row>` +
				`<row r="6"><c r="B6" s="1"><v>12.5</v></c><c r="C6" t="inlineStr"><is><t>R</t></is></c></row>`,
			styles: `<styleSheet><numFmts><numFmt numFmtId="164" formatCode="0000000"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>`,
			want:   map[string]any{"0001000": nil, "12.5": nil}},
		{name: "a merged range over data rows is refused at its first cell",
			rows:     user(5, `<c r="D5" t="b"><v>1</v></c>`) + user(6, ""),
			tail:     `<mergeCells count="2"><mergeCell ref="A1:E1"/><mergeCell ref="D5:D6"/></mergeCells>`,
			want:     map[string]any{"u5": true, "u6": nil},
			problems: []string{"F:s:5:D: merged cells D5:D6 span data rows: the rows after the first would silently get no value; unmerge them and fill each row"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts := workbookParts(sheetXML(cols, tc.rows, tc.tail), "")
			if tc.styles != "" {
				parts = append(parts, "xl/styles.xml", tc.styles)
			}
			p := deflated(t, "in.xlsx", parts...)
			recs, probs, err := readAll(t, p, Options{Formulas: tc.formulas, DisplayName: "F"})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]any{}
			for _, r := range recs {
				var locked any
				if ai, ok := r.Fields["account_information"].(map[string]any); ok {
					locked = ai["locked"]
				}
				name, ok := r.Fields["username"].(string)
				if !ok {
					name = "row " + itoa(r.Loc.Row)
				}
				got[name] = locked
			}
			if tc.want == nil {
				tc.want = map[string]any{}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("records %v, want %v", got, tc.want)
			}
			if !reflect.DeepEqual(probs, tc.problems) {
				t.Errorf("problems\n%s\nwant\n%s", strings.Join(probs, "\n"), strings.Join(tc.problems, "\n"))
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// Merged ranges are checked against every block of the sheet: titles and
// instruction rows may be merged, data rows may not.
func TestMergesAcrossBlocks(t *testing.T) {
	var got []string
	r := &blockReader{opts: Options{DisplayName: "F"}, sheet: "s", blocks: []int{1, 10}, report: func(p Problem) { got = append(got, p.Loc.String()+":"+p.Column) }}
	r.checkMerges([]string{"A1:H1", "A3:B4", "A5:A6", "B8:B12", "C11:C14", "D10:D13", "E20:F20", "G9"})
	want := []string{"F:s:5:A", "F:s:8:B", "F:s:11:C", "F:s:20:E"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merges refused at %v, want %v", got, want)
	}
}
