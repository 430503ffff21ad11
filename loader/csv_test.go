package loader

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// CSV files as VOSS, LibreOffice and Excel write them: records by key and
// located problems (physical lines, column letters), or the error that
// refuses the whole file.
func TestCSVAsToolsWriteThem(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		opts     Options
		keys     []string
		problems []string
		err      string
	}{
		{name: "VOSS layout: group row and title row are not data",
			text: "\"entity: cupi/User\"\n# Action,Alias,FirstName,DtmfAccessId\nBase,Attributes,,\n# Action,Alias,First Name,Extension\nadd,jdoe,John,1001\n",
			keys: []string{"jdoe"}},
		{name: "data/User sheet exported by LibreOffice",
			text: "\"entity: data/User; hierarchy: sys.A\",,\n# Action,username,role\nBASE,attributes,\n# Action,Username,Role\n,u1,R\n",
			keys: []string{"sys.A/u1"}},
		{name: "no group row: data starts after the column names",
			text: "\"entity: data/User; hierarchy: sys.A\"\nusername,role\nu1,R\nu2,R\n",
			keys: []string{"sys.A/u1", "sys.A/u2"}},
		{name: "locations are physical lines",
			text:     "\"entity: data/User; hierarchy: sys.A\"\nusername,role,account_information.locked\nu1,\"multi\nline\nrole\",true\nu2,R,maybe\n",
			keys:     []string{"sys.A/u1", "sys.A/u2"},
			problems: []string{"F:csv:6:C: expected a boolean (true/false, yes/no, 1/0), got \"maybe\""}},
		{name: "a parse error names its line and column letter",
			text: "\"entity: data/User; hierarchy: sys.A\"\nusername,role,email\nu1,R,ok\nu2,R\"x\",e\n",
			err:  "F:csv:4:B: bare \" in non-quoted-field"},
		{name: "separator from the column-name row, not the unquoted entity line",
			text: "entity: data/User; hierarchy: sys.A\nusername,role\nu1,R\n",
			keys: []string{"sys.A/u1"}},
		{name: "semicolons in the column-name row",
			text: "\"entity: data/User; hierarchy: sys.A\"\nusername;role\nu1;R\n",
			keys: []string{"sys.A/u1"}},
		{name: "a long number Excel wrote in scientific notation is refused in a text field",
			text:     "\"entity: data/User; hierarchy: sys.A\"\nusername,role,DtmfAccessId,account_information.num_of_failed_login_attempts\nu1,R,4.42071E+11,1\nu2,R,1001,2\n",
			keys:     []string{"sys.A/u1", "sys.A/u2"},
			problems: []string{"F:csv:3:C: 4.42071E+11 is a number in scientific notation, as Excel writes a long number in a CSV: its digits are lost; format the column as Text in the workbook and save the CSV again"}},
		{name: "lines ended by CR alone (Excel's CSV for Macintosh) are refused, not read as one line",
			text: "entity: data/User; hierarchy: sys.A\rusername,role\ru1,R\ru2,R\r",
			err:  "F: the lines of the file end with CR alone (the old Macintosh format, Excel's \"CSV (Macintosh)\"): save it as CSV UTF-8"},
		{name: "an entity row with nothing after it is a block without column names",
			text:     "\"entity: data/User; hierarchy: sys.A\"\n",
			problems: []string{"F:csv:1: the block has no column-name row (expected right under the \"entity:\" row)"}},
		{name: "an entity row right after another",
			text:     "\"entity: data/User; hierarchy: sys.A\"\n\"entity: data/User; hierarchy: sys.B\"\nusername,role\nu1,R\n",
			keys:     []string{"sys.B/u1"},
			problems: []string{"F:csv:1: the block has no column-name row (expected right under the \"entity:\" row)"}},
		{name: "composed and decomposed é are one user, and a duplicate (issue 23)",
			text:     "\"entity: data/User; hierarchy: sys.A\"\nusername,role\njos\u00e9,R\njose\u0301,R\n",
			keys:     []string{"sys.A/jos\u00e9", "sys.A/jos\u00e9"},
			problems: []string{"F:csv:4:A: duplicate business key \"sys.A/jos\u00e9\": the same data/User is also at F:csv:3"}},
		{name: "a CUPI alias stops at 64 characters: a longer username with a CUPI part is refused (issue 23)",
			text:     "\"entity: data/User; hierarchy: sys.A\"\nusername,role,DtmfAccessId\n" + strings.Repeat("é", 65) + ",R,1001\n" + strings.Repeat("u", 64) + ",R,1002\n" + strings.Repeat("v", 65) + ",R,\n",
			keys:     []string{"sys.A/" + strings.Repeat("é", 65), "sys.A/" + strings.Repeat("u", 64), "sys.A/" + strings.Repeat("v", 65)},
			problems: []string{"F:csv:3:A: too long for the Unity Connection alias this row creates: 65 characters, at most 64 (CUPI Alias)"}},
		{name: "an empty file is refused, not valid with no records", text: "\xef\xbb\xbf\r\n\n", err: "F: the file is empty"},
		{name: "UTF-16 is named", text: "\xff\xfeu\x00s\x00e\x00r\x00\n\x00", err: "F: the file is UTF-16 (little-endian); save it as CSV UTF-8"},
		{name: "Latin-1 is named", text: "username,role,first_name\nu1,R,Bj\xf8rn\n", opts: Options{Model: "data/User", Hierarchy: "sys.A"},
			err: "F:csv:2:C: the file is not UTF-8 (Latin-1 or Windows-1252?); save it as CSV UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "in.csv")
			if err := os.WriteFile(p, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			tc.opts.DisplayName = "F"
			recs, probs, err := readAll(t, p, tc.opts)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, r := range recs {
				keys = append(keys, Key(r))
			}
			if !reflect.DeepEqual(keys, tc.keys) {
				t.Errorf("keys %v, want %v", keys, tc.keys)
			}
			if !reflect.DeepEqual(probs, tc.problems) {
				t.Errorf("problems\n%s\nwant\n%s", strings.Join(probs, "\n"), strings.Join(tc.problems, "\n"))
			}
		})
	}
}
