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
