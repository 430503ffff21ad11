// Command gen writes the corpus files that Go programs make: a workbook
// written by excelize's StreamWriter (as other Go tools write them) and a
// JSON export zipped on a Mac (Finder's "Compress" adds __MACOSX/ and
// AppleDouble ._ entries; a Windows editor adds a UTF-8 BOM).
//
//	go run ./loader/testdata/realworld/gen
package main

import (
	"archive/zip"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/xuri/excelize/v2"
)

func main() {
	dir := filepath.Join("loader", "testdata", "realworld")
	if err := streamWorkbook(filepath.Join(dir, "excelize-stream.xlsx")); err != nil {
		log.Fatal(err)
	}
	if err := macZip(filepath.Join(dir, "macos-export.zip")); err != nil {
		log.Fatal(err)
	}
}

func streamWorkbook(path string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "relation_HcsAdminUserREL"); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("relation_HcsAdminUserREL")
	if err != nil {
		return err
	}
	rows := [][]any{
		{"entity: relation/HcsAdminUserREL; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal"},
		{"# Action", "hcsUname", "AdminUser.username", "AdminUser.role", "AdminUser.account_information.locked", "AdminUser.email"},
		{"Base", "Attributes"},
		{"# Action", "Name", "Username", "Role", "Locked", "Email"},
		{"add", "st.admin1", "st.admin1", "AAAGlobalENTCustomerAdministrator", false, "st.admin1@aaaglobal.example"},
		{"add", "st.admin2", "st.admin2", "AAAGlobalENTCustomerAdministrator", true, excelize.Cell{Formula: `B6&"@aaaglobal.example"`}},
		{"add", 12345678901234567, "0042", "AAAGlobalENTCustomerAdministrator", false, nil},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(path)
}

func macZip(path string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	when := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	add := func(name string, data []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: when})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	doc := "\ufeff" + `{"schema": {}, "data": [
  {"meta": {"model_type": "data/User", "pkid": "6a1f", "business_key": {"hierarchy": "sys.hcs.CS-P.CS-NB.AAAGlobal", "username": "mac.user1"}},
   "data": {"username": "mac.user1", "role": "Help Desk Administrator", "email": "mac.user1@aaaglobal.example", "account_information": {"locked": false, "num_of_failed_login_attempts": 0}}},
  {"meta": {"model_type": "data/User", "pkid": "6a20"},
   "data": {"username": "mac.user2", "role": "Help Desk Administrator", "hierarchy_path": "sys.hcs.CS-P.CS-NB.AAAGlobal", "hierarchy_friendly_name": "AAAGlobal"}}
]}
`
	// AppleDouble header of a resource fork: magic 0x00051607, version 2.
	appleDouble := append([]byte{0, 5, 22, 7, 0, 2, 0, 0}, make([]byte, 74)...)
	for _, e := range []struct {
		name string
		data []byte
	}{
		{"export/", nil},
		{"export/export_2026-11-23_09:00:00.000000.json", []byte(doc)},
		{"export/.DS_Store", []byte("\x00\x00\x00\x01Bud1\x00\x00")},
		{"__MACOSX/", nil},
		{"__MACOSX/export/", nil},
		{"__MACOSX/export/._export_2026-11-23_09:00:00.000000.json", appleDouble},
	} {
		if err := add(e.name, e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}
