package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"
)

// hostile is a misbehaving stand-in between bulkprov and the simulator
// (issue 23): each request's body is read, then misbehave may answer it
// itself (true) or let it through to the simulator (false).
type hostile struct {
	*httptest.Server
	mu        sync.Mutex
	answered  map[string]int // "METHOD path-kind" answered by misbehave
	misbehave func(w http.ResponseWriter, r *http.Request, body []byte) bool
}

func startHostile(t *testing.T, simURL string, misbehave func(w http.ResponseWriter, r *http.Request, body []byte) bool) *hostile {
	t.Helper()
	u, _ := url.Parse(simURL)
	rp := httputil.NewSingleHostReverseProxy(u)
	h := &hostile{answered: map[string]int{}, misbehave: misbehave}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if h.misbehave(w, r, body) {
			h.mu.Lock()
			h.answered[r.Method+" "+kindOfPath(r.URL.Path)]++
			h.mu.Unlock()
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hostile) count(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.answered[key]
}

// kindOfPath names a request path without its ids: "/vmrest/users/x/credential/password" -> "credential".
func kindOfPath(p string) string {
	switch {
	case strings.Contains(p, "/credential/"):
		return "credential"
	case strings.HasSuffix(strings.TrimRight(p, "/"), "/vmrest/users"):
		return "cupi-users"
	case strings.Contains(p, "/api/data/User"):
		return "voss-user"
	}
	return p
}

// writeSecretUsers writes n data/User rows, each with a password and a PIN.
func writeSecretUsers(t *testing.T, path string, n int) (secrets []string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal"},
		{"# Action", "username", "role", "password", "pin", "DtmfAccessId"},
		{}, {},
	}
	for i := 0; i < n; i++ {
		pw, pin := fmt.Sprintf(`Echo<Pass>&"%03d+/é`, i), fmt.Sprintf("73%04d", 1000+i*7)
		secrets = append(secrets, pw, pin)
		rows = append(rows, []any{"add", fmt.Sprintf("echo%03d", i), "Help Desk Administrator", pw, pin, fmt.Sprintf("8%05d", i)})
	}
	for i, r := range rows {
		ref, _ := excelize.CoordinatesToCellName(1, i+1)
		_ = f.SetSheetRow("Sheet1", ref, &r)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return secrets
}

// filesText returns the text of every file under dir but skip, xlsx and
// other zips read entry by entry.
func filesText(t *testing.T, dir, skip string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || p == skip {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		if zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b))); err == nil {
			var all strings.Builder
			for _, f := range zr.File {
				rc, err := f.Open()
				if err != nil {
					continue
				}
				x, _ := io.ReadAll(rc)
				rc.Close()
				all.Write(x)
			}
			b = []byte(all.String())
		}
		out[p] = string(b)
		return nil
	})
	return out
}

// encodings lists the ways a server may echo s.
func encodings(s string) []string {
	j, _ := jsonMarshalString(s)
	var x strings.Builder
	_ = xmlEscapeText(&x, s)
	return []string{s, url.QueryEscape(s), url.PathEscape(s), j, x.String(), base64Std(s)}
}

// Finding 5: a server whose 400 quotes the refused request — body, URL,
// Authorization header, in JSON, XML, URL and base64 encodings — puts no
// password or PIN into stdout, stderr, any report format or the journal.
func TestServerEchoesNoSecretAnywhere(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	secrets := writeSecretUsers(t, wb, 6)
	secrets = append(secrets, "sim-admin-Secret-9")
	sim := startSim(t)
	var echoedMu sync.Mutex
	var echoed []string
	h := startHostile(t, sim.url, func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		kind := kindOfPath(r.URL.Path)
		if r.Method == http.MethodGet || (kind != "credential" && kind != "voss-user") {
			return false
		}
		req := r.Method + " " + r.URL.String() + " Authorization: " + r.Header.Get("Authorization") + " " + string(body)
		echoedMu.Lock()
		echoed = append(echoed, base64Std(string(body)))
		echoedMu.Unlock()
		var x strings.Builder
		_ = xmlEscapeText(&x, string(body))
		msg := "refused request " + req + " | xml " + x.String() + " | url " + url.QueryEscape(string(body)) + " | b64 " + base64Std(string(body))
		m, _ := jsonMarshalString(msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		if kind == "credential" {
			fmt.Fprintf(w, `{"errors":{"code":"INVALID_PARAMETER %s","message":"%s"}}`, m, m)
		} else {
			fmt.Fprintf(w, `{"message":"%s","request":%s}`, m, body)
		}
		return true
	})
	state := filepath.Join(dir, "state")
	env := append([]string{"BULKPROV_STATE_DIR=" + state}, creds...)
	var outputs []string
	for _, ext := range []string{"json", "csv", "xlsx", "html"} {
		r := bulkprov(t, env, "apply", "--voss", h.URL, "--cupi", h.URL, "--report", filepath.Join(dir, "report."+ext), "--checkpoint", filepath.Join(dir, "run-"+ext+".journal"), wb)
		if r.code != 1 {
			t.Fatalf("apply --report .%s: exit %d, want 1 (the refused rows)\n%s\n%s", ext, r.code, r.stdout, r.stderr)
		}
		outputs = append(outputs, r.stdout, r.stderr)
	}
	if h.count("PUT credential") == 0 || h.count("POST voss-user") == 0 {
		t.Fatalf("the stand-in echoed nothing: %v", h.answered)
	}
	texts := filesText(t, dir, wb)
	for i, o := range outputs {
		texts[fmt.Sprintf("output %d", i)] = o
	}
	if !strings.Contains(texts[filepath.Join(dir, "report.json")], "refused request") {
		t.Errorf("the report does not quote the server's refusal at all:\n%s", texts[filepath.Join(dir, "report.json")])
	}
	leaks := 0
	for name, text := range texts {
		for _, s := range secrets {
			for _, enc := range encodings(s) {
				if containsSecret(text, enc) {
					leaks++
					if leaks < 10 {
						i := strings.Index(text, enc)
						t.Errorf("%s holds %q (secret %q): …%s…", name, enc, s, text[max(0, i-80):min(len(text), i+len(enc)+40)])
					}
				}
			}
		}
		if strings.Contains(text, strings.TrimRight(base64Std("sim-admin:sim-admin-Secret-9"), "=")) {
			t.Errorf("%s holds the admin's Basic authorization", name)
		}
		for _, b := range echoed {
			if len(b) > 12 && strings.Contains(text, b[:12]) {
				i := strings.Index(text, b[:12])
				t.Errorf("%s holds a base64 echo of a request body: %s", name, text[i:min(len(text), i+200)])
			}
		}
	}
	t.Logf("%d files and outputs checked, %d secrets × %d encodings, %d leaks", len(texts), len(secrets), len(encodings("x")), leaks)
}

func jsonMarshalString(s string) (string, error) {
	b, err := json.Marshal(s)
	return strings.TrimSuffix(strings.TrimPrefix(string(b), `"`), `"`), err
}

func xmlEscapeText(w io.Writer, s string) error { return xml.EscapeText(w, []byte(s)) }

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const blockPage = `<!DOCTYPE html><html><head><title>Web Filter</title></head><body><h1>Access to this URL is blocked by the security policy</h1></body></html>`

// credentialSets counts the credential sets the simulator committed.
func credentialSets(t *testing.T, sim *simProc) int {
	n := 0
	for k, v := range sim.writes(t) {
		if strings.Contains(k, "cupi/credential:") {
			n += v
		}
	}
	return n
}

// Finding 3: only the documented answer is success. A firewall's block
// page (200, text/html) on the credential PUT — documented 204 — is an
// unknown outcome settled by TimeChanged: not applied, the operation
// fails (exit 1) and nothing is recorded as applied, so the next run
// sends those passwords. A 200 HTML page on the CUPI users list makes the
// target unreachable (exit 3) after a few requests, never paging for
// ever; invalid XML on a credential read is exit 3, never an empty
// credential.
func TestOnlyTheDocumentedAnswerIsSuccessE2E(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	wb := filepath.Join(dir, "users.xlsx")
	writeSecretUsers(t, wb, 5)
	sim := startSim(t)
	state := filepath.Join(dir, "state")
	env := append([]string{"BULKPROV_STATE_DIR=" + state}, creds...)

	t.Run("block page on credential PUT", func(t *testing.T) {
		h := startHostile(t, sim.url, func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			if r.Method != http.MethodPut || kindOfPath(r.URL.Path) != "credential" {
				return false
			}
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, blockPage) // 200
			return true
		})
		report := filepath.Join(dir, "blocked.json")
		r := bulkprov(t, env, "apply", "--voss", h.URL, "--cupi", h.URL, "--quiet", "--report", report, wb)
		blocked := h.count("PUT credential")
		t.Logf("block page: exit %d, %d credential PUTs answered by the block page", r.code, blocked)
		if r.code != 1 {
			t.Fatalf("exit %d, want 1 (the blocked credentials failed)\n%s", r.code, r.stderr)
		}
		if blocked != 5 {
			t.Errorf("%d credential PUTs reached the block page, want 5 (each password once: proven not applied, not resent; its PIN skipped)", blocked)
		}
		failed := 0
		for _, op := range reportOps(t, report) {
			switch op.Kind {
			case "cupi/credential/password":
				if op.Status != "failed" || !strings.Contains(op.Error, "not the API's answer") || !strings.Contains(op.Error, "not applied") {
					t.Errorf("%s %s: %s %q", op.Kind, op.Key, op.Status, op.Error)
				}
				failed++
			case "cupi/credential/pin":
				if op.Status == "done" {
					t.Errorf("%s %s: done behind a block page", op.Kind, op.Key)
				}
			}
		}
		if failed != 5 {
			t.Errorf("%d password operations failed in the report, want 5", failed)
		}
		// The next night, without the firewall: every password and PIN is sent.
		before := credentialSets(t, sim)
		r = bulkprov(t, env, "apply", "--voss", sim.url, "--cupi", sim.url, "--quiet", wb)
		if r.code != 0 {
			t.Fatalf("the run after the block page: exit %d\n%s", r.code, r.stderr)
		}
		if sent := credentialSets(t, sim) - before; sent != 10 {
			t.Errorf("the run after the block page set %d credentials, want 10 (none was recorded as applied)", sent)
		}
	})

	t.Run("block page on the users list", func(t *testing.T) {
		h := startHostile(t, sim.url, func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			if r.Method != http.MethodGet || kindOfPath(r.URL.Path) != "cupi-users" {
				return false
			}
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, blockPage)
			return true
		})
		r := bulkprov(t, env, "plan", "--voss", sim.url, "--cupi", h.URL, wb)
		lists := h.count("GET cupi-users")
		t.Logf("HTML users list: exit %d after %d list requests", r.code, lists)
		if r.code != 3 || lists > 3 {
			t.Errorf("exit %d after %d list requests, want 3 after at most 3\n%s", r.code, lists, r.stderr)
		}
		if !strings.Contains(r.stderr, "not the API's answer") {
			t.Errorf("stderr does not say what was wrong:\n%s", r.stderr)
		}
	})

	t.Run("invalid XML on a credential read", func(t *testing.T) {
		h := startHostile(t, sim.url, func(w http.ResponseWriter, r *http.Request, body []byte) bool {
			if r.Method != http.MethodGet || kindOfPath(r.URL.Path) != "credential" {
				return false
			}
			w.Header().Set("Content-Type", "application/xml")
			_, _ = io.WriteString(w, "<Credential><TimeChanged>2026-12-07 23:0")
			return true
		})
		// A new password for one user: the plan reads its credential.
		wb2 := filepath.Join(dir, "changed.xlsx")
		writeSecretUsers(t, wb2, 5)
		f, err := excelize.OpenFile(wb2)
		if err != nil {
			t.Fatal(err)
		}
		_ = f.SetCellValue("Sheet1", "D5", "A-New-Passw0rd-1")
		_ = f.Save()
		f.Close()
		r := bulkprov(t, env, "plan", "--voss", sim.url, "--cupi", h.URL, wb2)
		t.Logf("invalid XML credential: exit %d after %d credential reads", r.code, h.count("GET credential"))
		if h.count("GET credential") == 0 {
			t.Fatal("the plan read no credential")
		}
		if r.code != 3 {
			t.Errorf("exit %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})
}
