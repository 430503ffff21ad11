package main

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cupisim "github.com/bulkprov/bulkprov/targets/cupi/sim"
)

// --cupi-share F keeps at most ⌈5 × F⌉ requests in service on a Unity
// Connection cluster, as the simulator's slot accounting counts them; the
// whole share (the default) keeps all 5 busy. Bad shares exit 2 before
// any request.
func TestCUPIShare(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BULKPROV_STATE_DIR", filepath.Join(dir, "state"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "xdg"))
	t.Setenv("BULKPROV_CUPI_USER", "admin")
	t.Setenv("BULKPROV_CUPI_PASSWORD", "admin")
	csv := filepath.Join(dir, "users.csv")
	var b strings.Builder
	b.WriteString("\"entity: cupi/User\"\nAlias,DtmfAccessId,FirstName,Roles,Pin\n")
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "share%03d,7%05d,User,Help Desk Administrator,%06d\n", i, i, 246800+i*7)
	}
	if err := os.WriteFile(csv, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	apply := func(share string) (code int, maxInService int, stderr string) {
		s := cupisim.New(cupisim.Options{User: "admin", Password: "admin", ServiceTime: 15 * time.Millisecond})
		srv := httptest.NewServer(s)
		defer srv.Close()
		args := []string{"apply", "--quiet", "--cupi", srv.URL, "--checkpoint", filepath.Join(dir, "share-"+share+".journal"), csv}
		if share != "" {
			args = append(args[:1], append([]string{"--cupi-share", share}, args[1:]...)...)
		}
		var out, errb bytes.Buffer
		code = run(args, streams{in: strings.NewReader(""), out: &out, err: &errb})
		return code, s.MaxInService(), errb.String()
	}
	for _, c := range []struct {
		share string
		most  int // requests in service at once, at most
		least int // and at least (the share is used, not undershot)
	}{
		{"0.2", 1, 1},
		{"0.4", 2, 2},
		{"0.5", 3, 3},
		{"0.6", 3, 3},
		{"", 5, 4}, // the default: all 5 slots
	} {
		code, got, stderr := apply(c.share)
		if code != 0 {
			t.Fatalf("--cupi-share %q: exit %d: %s", c.share, code, stderr)
		}
		if got > c.most || got < c.least {
			t.Errorf("--cupi-share %q: %d requests in service at most, want %d–%d", c.share, got, c.least, c.most)
		}
	}
	// The plan's estimate counts the slots the share leaves.
	for share, want := range map[string]string{"1": "5 slots", "0.4": "2 slots", "0.2": "1 slots"} {
		var out, errb bytes.Buffer
		if code := run([]string{"plan", "--sim", "--cupi-share", share, csv}, streams{in: strings.NewReader(""), out: &out, err: &errb}); code != 0 {
			t.Fatalf("plan --cupi-share %s: exit %d: %s", share, code, errb.String())
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan --cupi-share %s: the estimate does not count %s:\n%s", share, want, out.String())
		}
	}
	for _, bad := range []string{"0", "-0.5", "1.5", "NaN", "half"} {
		code, got, stderr := apply(bad)
		if code != 2 || got != 0 || !strings.Contains(stderr, "--cupi-share") {
			t.Errorf("--cupi-share %s: exit %d after %d requests in service, stderr %q; want exit 2 naming the flag, before any request", bad, code, got, stderr)
		}
	}
}
