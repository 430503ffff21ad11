// Command gen writes the sample inputs in samples/: a tenant bulk-load
// workbook, the same tenant as a CSV and a VOSS JSON export zip, a config
// file, and the invalid files of samples/bad/ whose expected errors are
// tested. Run it with `go generate ./samples` (or `go run ./samples/gen`
// from the repository root). The output is deterministic.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/xuri/excelize/v2"
)

const (
	customer = "sys.hcs.CS-P.CS-NB.AAAGlobal"
	site     = "sys.hcs.CS-P.CS-NB.AAAGlobal.Site1"
)

var (
	firstNames = []string{"Ada", "Bjørn", "Chloé", "Dmitri", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas"}
	lastNames  = []string{"Lovelace", "Østergaard", "Dubois", "Ivanov", "Yılmaz", "Adeyemi", "Hopper", "Tanaka", "García", "Berg"}
	roles      = []string{"User Administrator", "Help Desk Administrator", "Audit Administrator"}
	languages  = []string{"en-us", "fr-fr", "de-de", "en-us"}
)

// user is one sample tenant user.
type user struct {
	username, first, last, email, role, language, hierarchy string
	password, pin, extension                                string
	locked, mustChange                                      bool
	questions                                               [][2]string
}

func users() []user {
	var out []user
	for i := 0; i < 60; i++ {
		u := user{
			username:   fmt.Sprintf("user%03d", i+1),
			first:      firstNames[i%len(firstNames)],
			last:       lastNames[(i/len(firstNames)+i)%len(lastNames)],
			role:       roles[i%len(roles)],
			language:   languages[i%len(languages)],
			hierarchy:  customer,
			password:   fmt.Sprintf("Sample-Pass-%04d", i+1),
			extension:  fmt.Sprintf("00%05d", 1000+i), // leading zeros must survive
			locked:     i%7 == 3,
			mustChange: i%2 == 0,
		}
		if i >= 40 {
			u.hierarchy = site
		}
		u.email = strings.ToLower(u.username) + "@aaaglobal.example"
		if i%3 == 0 {
			u.pin = fmt.Sprintf("%06d", 246800+i)
		}
		if i%4 == 0 {
			u.questions = [][2]string{{"First pet?", fmt.Sprintf("pet-%d", i)}, {"Home town?", fmt.Sprintf("town-%d", i)}}
		}
		out = append(out, u)
	}
	return out
}

func main() {
	dir := "."
	if _, err := os.Stat("samples"); err == nil {
		dir = "samples"
	}
	must(os.MkdirAll(filepath.Join(dir, "bad"), 0o755))
	us := users()
	must(writeTenantWorkbook(filepath.Join(dir, "tenant.xlsx"), us))
	must(writeCSV(filepath.Join(dir, "users.csv"), us[:10]))
	must(writeExportZip(filepath.Join(dir, "tenant.json.zip"), us))
	must(writeConfig(filepath.Join(dir, "config.json")))
	must(writeAnswers(filepath.Join(dir, "answers.csv"), us))
	must(writeBad(filepath.Join(dir, "bad")))
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// sheet writes blocks into one worksheet of f, row by row.
type sheet struct {
	f    *excelize.File
	name string
	row  int
}

func (s *sheet) put(values ...any) {
	s.row++
	cell, _ := excelize.CoordinatesToCellName(1, s.row)
	must(s.f.SetSheetRow(s.name, cell, &values))
}

// block writes the four header rows of a bulk-load block.
func (s *sheet) block(instructions string, columns []string) {
	s.put(instructions)
	row := make([]any, len(columns))
	titles := make([]any, len(columns))
	groups := make([]any, len(columns))
	for i, c := range columns {
		row[i] = c
		titles[i] = c
		if strings.HasPrefix(c, "#") {
			groups[i] = "Base"
		} else {
			groups[i] = "Attributes"
			titles[i] = strings.ReplaceAll(titleWords(strings.ReplaceAll(c, "_", " ")), ".", " / ")
		}
	}
	s.put(row...)
	s.put(groups...)
	s.put(titles...)
}

var userColumns = []string{
	"# Action", "# Hierarchy Node", "# Comment", "username", "first_name", "last_name", "email", "password", "role", "language",
	"account_information.locked", "account_information.change_password_on_login", "account_information.credential_policy",
	"account_information.security_questions.[0].question", "account_information.security_questions.[0].answer",
	"account_information.security_questions.[1].question", "account_information.security_questions.[1].answer",
	"DtmfAccessId", "pin",
}

func userRow(u user) []any {
	row := []any{"add", u.hierarchy, "sample user", u.username, u.first, u.last, u.email, u.password, u.role, u.language,
		u.locked, u.mustChange, "Default Credential Policy"}
	for i := 0; i < 2; i++ {
		if i < len(u.questions) {
			row = append(row, u.questions[i][0], u.questions[i][1])
		} else {
			row = append(row, nil, nil)
		}
	}
	row = append(row, u.extension)
	if u.pin != "" {
		row = append(row, u.pin)
	}
	return row
}

func newBook() *excelize.File {
	f := excelize.NewFile()
	return f
}

func textStyle(f *excelize.File) int {
	id, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	must(err)
	return id
}

func writeTenantWorkbook(path string, us []user) error {
	f := newBook()
	defer f.Close()
	must(f.SetSheetName("Sheet1", "data_User"))
	s := &sheet{f: f, name: "data_User"}
	s.block("entity: data/User; hierarchy: "+customer+"; parallel: False", userColumns)
	for _, u := range us {
		s.put(userRow(u)...)
	}
	must(f.SetColStyle("data_User", "R:S", textStyle(f)))

	f.NewSheet("relation_HcsAdminUserREL")
	r := &sheet{f: f, name: "relation_HcsAdminUserREL"}
	r.block("entity: relation/HcsAdminUserREL; hierarchy: "+customer, []string{
		"# Action", "hcsUname", "AdminUser.username", "AdminUser.first_name", "AdminUser.last_name", "AdminUser.email",
		"AdminUser.password", "AdminUser.role", "AdminUser.language", "AdminUser.account_information.locked",
	})
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("AAAGlobalAdmin%d", i)
		r.put("add", name, name, "Admin", fmt.Sprintf("Number %d", i), strings.ToLower(name)+"@aaaglobal.example",
			fmt.Sprintf("Admin-Pass-%04d", i), "AAAGlobalENTCustomerAdministrator", "en-us", false)
	}

	f.NewSheet("cupi_User")
	c := &sheet{f: f, name: "cupi_User"}
	c.block("entity: cupi/User", []string{"# Action", "Alias", "DtmfAccessId", "FirstName", "LastName", "Password", "Pin", "Roles", "Template"})
	must(f.SetColStyle("cupi_User", "C", textStyle(f)))
	for i := 1; i <= 6; i++ {
		c.put("add", fmt.Sprintf("vmuser%02d", i), fmt.Sprintf("0%04d", 7000+i), "Voicemail", fmt.Sprintf("Only %d", i),
			fmt.Sprintf("Vm-Web-Pass-%02d", i), fmt.Sprintf("%06d", 135790+i), "Greeting Administrator", "voicemailusertemplate")
	}

	f.NewSheet("cupi_AuthzServer")
	a := &sheet{f: f, name: "cupi_AuthzServer"}
	a.block("entity: cupi/AuthzServer", []string{"# Action", "DisplayName", "ServerNodeAddress", "Port", "ServerUsername", "ServerPassword", "IgnoreCertificateError"})
	a.put("add", "AuthzServer1", "cucm-pub.aaaglobal.example", "8443", "axladmin", "Authz-Secret-1", true)
	a.put("add", "AuthzServer2", "cucm-sub.aaaglobal.example", "8443", "axladmin", "Authz-Secret-2", false)

	f.NewSheet("#notes")
	must(f.SetCellValue("#notes", "A1", "Sheets whose name starts with # are skipped by the loader."))
	return f.SaveAs(path)
}

func writeCSV(path string, us []user) error {
	var b bytes.Buffer
	b.WriteString("\"entity: data/User; hierarchy: " + customer + "\"\n")
	b.WriteString("# Action,username,first_name,last_name,email,role,language,account_information.locked,DtmfAccessId\n")
	b.WriteString("# Action,User Name,First Name,Last Name,Email,Role,Language,Locked,Extension\n")
	for _, u := range us {
		fmt.Fprintf(&b, "modify,%s,%s,%s,%s,%s,%s,%v,%s\n", u.username, u.first, u.last, u.email, u.role, u.language, u.locked, u.extension)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// writeAnswers writes the secrets side-file of the README's worked
// example: the security answers an export cannot carry, keyed by username.
func writeAnswers(path string, us []user) error {
	var b bytes.Buffer
	b.WriteString("username,account_information.security_questions.[0].answer,account_information.security_questions.[1].answer\n")
	for _, u := range us {
		if len(u.questions) == 2 {
			fmt.Fprintf(&b, "%s,%s,%s\n", u.username, u.questions[0][1], u.questions[1][1])
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func exportItem(model, hierarchy string, key map[string]string, data map[string]any) map[string]any {
	bk := map[string]any{"hierarchy": hierarchy}
	for k, v := range key {
		bk[k] = v
	}
	return map[string]any{
		"meta": map[string]any{"model_type": model, "hierarchy": hierarchy, "business_key": bk},
		"data": data,
	}
}

func writeExportZip(path string, us []user) error {
	var items []any
	for _, u := range us {
		ai := map[string]any{"locked": u.locked, "change_password_on_login": u.mustChange, "credential_policy": "Default Credential Policy"}
		if len(u.questions) > 0 {
			var qs []any
			for _, q := range u.questions {
				qs = append(qs, map[string]any{"question": q[0], "answer": q[1]})
			}
			ai["security_questions"] = qs
		}
		items = append(items, exportItem("data/User", u.hierarchy, map[string]string{"username": u.username}, map[string]any{
			"username": u.username, "first_name": u.first, "last_name": u.last, "email": u.email,
			"role": u.role, "language": u.language, "account_information": ai,
		}))
	}
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("AAAGlobalAdmin%d", i)
		items = append(items, exportItem("relation/HcsAdminUserREL", customer, map[string]string{"hcsUname": name}, map[string]any{
			"hcsUname": name,
			"AdminUser": map[string]any{"username": name, "first_name": "Admin", "last_name": fmt.Sprintf("Number %d", i),
				"email": strings.ToLower(name) + "@aaaglobal.example", "role": "AAAGlobalENTCustomerAdministrator", "language": "en-us",
				"account_information": map[string]any{"locked": false}},
		}))
	}
	doc, err := json.MarshalIndent(items, "", " ")
	if err != nil {
		return err
	}
	return writeZip(path, map[string][]byte{"export_2026-11-23_00:00:00.000000.json": doc})
}

func writeZip(path string, entries map[string][]byte) error {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range sortedKeys(entries) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			return err
		}
		if _, err := w.Write(entries[name]); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func sortedKeys(m map[string][]byte) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

func writeConfig(path string) error {
	cfg := map[string]any{
		"defaultHierarchy": customer,
		"hierarchies":      map[string]string{"sys.hcs.OldProvider.OldCustomer": customer},
		"roles": map[string][]string{
			"AAAGlobalENTCustomerAdministrator": {"User Administrator", "Help Desk Administrator"},
		},
		"credentialPolicies": map[string]string{"AAAGlobal-CP": "Default Credential Policy"},
		"cupiUserTemplate":   "voicemailusertemplate",
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// writeBad writes invalid inputs; each has NAME.expected beside it with the
// exact error lines `bulkprov validate` must print.
func writeBad(dir string) error {
	f := newBook()
	must(f.SetSheetName("Sheet1", "users"))
	s := &sheet{f: f, name: "users"}
	s.block("entity: data/User; hierarchy: "+customer, []string{
		"# Action", "username", "emial", "role", "password", "account_information.locked",
		"account_information.security_questions.[x].question", "username", "language",
	})
	s.put("add", "good01", "g@example.com", "User Administrator", "Long-enough-1", "no", "q", nil, "en-us") // valid apart from the bad headers
	s.put("ad", "bad02", nil, "User Administrator", "Long-enough-2", "maybe")
	s.put("add", "bad03", nil, nil, "short")
	s.put("add", "good01", nil, "User Administrator", "Long-enough-4")
	s.put("delete")
	s.put("add", "bad06", nil, "User Administrator", nil, "TRUE", nil, nil, nil)
	must(f.SetCellFormula("users", "I10", "=\"en\"&\"-us\""))
	f.NewSheet("#skipped")
	must(f.SetCellValue("#skipped", "A1", "entity: data/Nothing"))
	f.NewSheet("unknown")
	must(f.SetCellValue("unknown", "A1", "entity: data/Phone"))
	must(f.SaveAs(filepath.Join(dir, "errors.xlsx")))
	f.Close()

	csvText := "not,a,workbook\n1,2,3\n"
	must(os.WriteFile(filepath.Join(dir, "renamed-csv.xlsx"), []byte(csvText), 0o644))
	must(writeZip(filepath.Join(dir, "zip-slip.zip"), map[string][]byte{"../../etc/evil.json": []byte("[]")}))
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	must(writeZip(filepath.Join(dir, "deep.json.zip"), map[string][]byte{"export.json": []byte(deep)}))
	bomb := bytes.Repeat([]byte{' '}, 300<<20)
	must(writeZip(filepath.Join(dir, "bomb.json.zip"), map[string][]byte{"export.json": bomb}))
	items := `[{"meta":{"model_type":"data/User","hierarchy":"` + customer + `"},"data":{"username":"x1","role":"User Administrator","account_information":{"locked":"perhaps"}}},
 {"meta":{"model_type":"data/Phone"},"data":{"name":"p"}},
 {"meta":{"model_type":"relation/HcsAdminUserREL","hierarchy":"` + customer + `"},"data":{"hcsUname":"a1"}},
 {"data":{"username":"nomodel"}}]`
	must(writeZip(filepath.Join(dir, "items.json.zip"), map[string][]byte{"export.json": []byte(items)}))
	csv := "\"entity: cupi/User\"\n# Action,Alias,DtmfAccessId,Pin,Roles\nadd,vm1,1001,12ab,Technician\nadd,vm1,1002,123456,\nremove,vm3,1003,,\n"
	return os.WriteFile(filepath.Join(dir, "cupi.csv"), []byte(csv), 0o644)
}

// titleWords upper-cases the first letter of each word, a word starting
// after a space or punctuation (what the deprecated strings.Title did for
// the ASCII column names of the samples).
func titleWords(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		sep := prev
		prev = r
		if isWordBreak(sep) {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

func isWordBreak(r rune) bool {
	switch {
	case r <= 0x7F:
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_')
	case unicode.IsLetter(r), unicode.IsDigit(r):
		return false
	}
	return unicode.IsSpace(r)
}
