package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/transform"
)

// The approval policy comes from apply's flags, else its --config, else
// (apply --revert) the config in the back-out file; flags win.
func TestApprovalPolicySources(t *testing.T) {
	dir := t.TempDir()
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEHJJ+oSOtLqXjBV5DSLIqmXxExK0f/s7exBIE9vTDT9"
	for _, n := range []string{"board", "other"} {
		os.WriteFile(filepath.Join(dir, n), []byte(n+"@x "+key+"\n"), 0o644)
	}
	cfg := filepath.Join(dir, "cfg.json")
	os.WriteFile(cfg, []byte(`{"approval": {"allowedSigners": "board", "required": 2}}`), 0o644)
	plain := filepath.Join(dir, "plain.json")
	os.WriteFile(plain, []byte(`{}`), 0o644)
	revertCfg := &transform.Config{Approval: &transform.ApprovalConfig{AllowedSigners: filepath.Join(dir, "other")}}
	cases := []struct {
		name   string
		args   []string
		config string
		rv     *revertRun
		file   string // "" = no policy
		n      int
		err    string
	}{
		{name: "none"},
		{name: "plain config", config: plain},
		{name: "flags", args: []string{"--allowed-signers", filepath.Join(dir, "board"), "--approvals", "2"}, file: "board", n: 2},
		{name: "flag default 1", args: []string{"--allowed-signers", filepath.Join(dir, "board")}, file: "board", n: 1},
		{name: "approvals alone", args: []string{"--approvals", "2"}, err: "needs --allowed-signers"},
		{name: "zero approvals", args: []string{"--allowed-signers", filepath.Join(dir, "board"), "--approvals", "0"}, err: "want at least 1"},
		{name: "config, relative to its folder", config: cfg, file: "board", n: 2},
		{name: "config, --approvals wins", config: cfg, args: []string{"--approvals", "3"}, file: "board", n: 3},
		{name: "config, --allowed-signers wins", config: cfg, args: []string{"--allowed-signers", filepath.Join(dir, "other")}, file: "other", n: 2},
		{name: "revert: the back-out file's config", rv: &revertRun{cfg: revertCfg}, file: "other", n: 1},
		{name: "missing file", args: []string{"--allowed-signers", filepath.Join(dir, "nope")}, err: "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("apply", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var af approvalFlags
			af.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			pol, err := af.policy(&targetFlags{config: tc.config}, tc.rv)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || exitCode(err) != exitInvalid {
					t.Fatalf("error %v, want %q (exit 2)", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.file == "" && pol != nil:
				t.Errorf("policy %+v, want none", pol)
			case tc.file != "" && (pol == nil || pol.File != filepath.Join(dir, tc.file) || pol.Required != tc.n):
				t.Errorf("policy %+v, want %s with %d", pol, tc.file, tc.n)
			}
		})
	}
}
