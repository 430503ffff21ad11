package transcript_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/transcript"
)

// What the recording hook redacts, from a server that answers with every
// kind of secret a real one might: the file holds none of them, keeps
// everything else, and replays to the same answers (a zip included).
func TestRecordRedactsAndReplays(t *testing.T) {
	const user, pass = "ops-admin", "Admin-Pass-123"
	var zipBody bytes.Buffer
	zw := zip.NewWriter(&zipBody)
	f, _ := zw.Create("export.json")
	io.WriteString(f, `[{"meta":{"pkid":"p1"},"data":{"username":"jdoe","password":"Zip-Secret-9","email":"j@x"}}]`)
	zw.Close()
	answers := map[string]struct{ ctype, body string }{
		"/json": {"application/json", `{"username": "ops-admin", "owner":"ops-admin.backup", "ServerPassword":"Bind-Pw-77", "Pin" : "246813", "empty_password":"", "token":"tok-abc-123", "note":"admin ops-admin ops-admin!"}`},
		"/xml":  {"application/xml", `<User><Alias>jdoe</Alias><Credentials>Cred-Secret-5</Credentials><VoiceMailPin>135790</VoiceMailPin><Credential><Locked>false</Locked></Credential></User>`},
		"/zip":  {"application/x-zip", zipBody.String()},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "Session-Value-42"})
		w.Header().Set("X-Auth-Token", "Header-Token-7")
		a := answers[r.URL.Path]
		w.Header().Set("Content-Type", a.ctype)
		io.WriteString(w, a.body)
	}))
	defer srv.Close()

	dir := filepath.Join(t.TempDir(), "rec")
	rec, err := transcript.NewRecorder(dir)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: rec.Wrap("cupi[aaa]")(http.DefaultTransport)}
	live := map[string]string{}
	for _, p := range []string{"/json", "/xml", "/zip?api_key=Query-Key-3&limit=5"} {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+p, nil)
		req.SetBasicAuth(user, pass)
		req.Header.Set("Cookie", "JSESSIONID=Session-Value-42")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		live[p] = string(b)
		if strings.Contains(string(b), "REDACTED") {
			t.Errorf("%s: the live answer was redacted; only the file must be", p)
		}
	}
	rec.Credentials(user, pass)
	files, err := rec.Close()
	if err != nil || len(files) != 1 || filepath.Base(files[0]) != "cupi-aaa.yaml" {
		t.Fatalf("Close = %v, %v", files, err)
	}
	b, _ := os.ReadFile(files[0])
	text := string(b)
	for _, s := range []string{pass, base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)), "Session-Value-42", "Header-Token-7",
		"Bind-Pw-77", "246813", "tok-abc-123", "Cred-Secret-5", "135790", "Zip-Secret-9", "Query-Key-3", `"ops-admin"`, " ops-admin ", "ops-admin!"} {
		if strings.Contains(text, s) {
			t.Errorf("%q is in the transcript", s)
		}
	}
	for _, s := range []string{"ops-admin.backup", `"email":"j@x"`, "<Alias>jdoe</Alias>", "<Locked>false</Locked>", `"empty_password":""`, "limit=5", "X-Transcript-Unzipped"} {
		if !strings.Contains(text, s) {
			t.Errorf("%q is missing from the transcript", s)
		}
	}

	rt, err := transcript.Replay(files[0])
	if err != nil {
		t.Fatal(err)
	}
	rc := &http.Client{Transport: rt}
	// Replayed answers are the recorded ones, redacted.
	for _, p := range []string{"/json", "/xml"} {
		resp, err := rc.Get("http://elsewhere.invalid" + p)
		if err != nil {
			t.Fatalf("replay %s: %v", p, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := strings.ReplaceAll(live[p], "Cred-Secret-5", "REDACTED"); p == "/xml" && !strings.HasPrefix(string(got), want[:strings.Index(want, "REDACTED")]) || !strings.Contains(string(got), "REDACTED") {
			t.Errorf("replay %s = %s", p, got)
		}
	}
	// The zip comes back a zip, its JSON redacted; the query's key is
	// redacted too, so that is what a replay asks.
	resp, err := rc.Get("http://elsewhere.invalid/zip?limit=5&api_key=REDACTED")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	zr, err := zip.NewReader(bytes.NewReader(got), int64(len(got)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "export.json" {
		t.Fatalf("replayed export is not the zip: %v", err)
	}
	fr, _ := zr.File[0].Open()
	content, _ := io.ReadAll(fr)
	if !strings.Contains(string(content), `"password":"REDACTED"`) || !strings.Contains(string(content), `"username":"jdoe"`) {
		t.Errorf("replayed export holds %s", content)
	}
}
