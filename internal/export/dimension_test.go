package export

import (
	"archive/zip"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// checkDimensions reads every worksheet of the workbook at path the way a
// reader that trusts <dimension> does (openpyxl in read-only mode): the
// declared range must be the range of the cells the sheet holds.
func checkDimensions(t *testing.T, path string) {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	sheets := 0
	for _, f := range z.File {
		if !strings.HasPrefix(f.Name, "xl/worksheets/sheet") {
			continue
		}
		sheets++
		r, _ := f.Open()
		b, _ := io.ReadAll(r)
		r.Close()
		xml := string(b)
		dim := regexp.MustCompile(`<dimension ref="([^"]+)"`).FindStringSubmatch(xml)
		maxCol, maxRow := 0, 0
		for _, m := range regexp.MustCompile(`<c r="([A-Z]+[0-9]+)"`).FindAllStringSubmatch(xml, -1) {
			c, r, _ := excelize.CellNameToCoordinates(m[1])
			maxCol, maxRow = max(maxCol, c), max(maxRow, r)
		}
		want, _ := excelize.CoordinatesToCellName(maxCol, maxRow)
		if dim == nil || dim[1] != "A1:"+want {
			t.Errorf("%s: %s declares %v; its cells span A1:%s", path, f.Name, dim, want)
		}
	}
	if sheets == 0 {
		t.Fatalf("%s has no worksheet", path)
	}
}

// An exported workbook declares its true used range (issue 27: it said
// A1, and a dimension-trusting reader saw one cell).
func TestExportDeclaresDimension(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.xlsx")
	src := func(ctx context.Context, fn func(Item) error) error {
		for _, u := range []string{"jdoe", "asmith", "bjones"} {
			if err := fn(Item{Hierarchy: "sys.hcs.A", Data: map[string]any{"username": u, "email": u + "@example.com", "first_name": "F"}}); err != nil {
				return err
			}
		}
		return nil
	}
	n, err := Write(context.Background(), path, "data/User", "sys.hcs.A", src)
	if err != nil || n != 3 {
		t.Fatalf("Write: %d, %v", n, err)
	}
	checkDimensions(t, path)
}
