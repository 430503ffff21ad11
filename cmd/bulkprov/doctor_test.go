package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
)

// tlsWrites reads the simulators' write counters over TLS.
func tlsWrites(t *testing.T, url, ca string) map[string]int {
	t.Helper()
	hc, err := targets.NewHTTPClient(targets.HTTPOptions{CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	return simWrites(t, hc, url)
}

// doctorLine is the contract's line format: STATUS, CHECK (names as the
// admin wrote them, single spaces inside), the detail, two spaces apart.
var doctorLine = regexp.MustCompile(`^(ok|warn|fail)  (voss|cupi)(\[[^\]]+\])?\.\S+( \S+)*  \S.*$`)

func checkDoctorLines(t *testing.T, r result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !doctorLine.MatchString(l) {
			t.Errorf("line %q does not follow `ok|warn|fail  CHECK  detail`", l)
			continue
		}
		f := strings.Split(l, "  ")
		if len(f) != 3 {
			t.Errorf("line %q splits on two spaces into %d fields, want 3", l, len(f))
			continue
		}
		out[f[1]] = f[0]
	}
	if strings.Contains(r.stdout+r.stderr, "sim-admin-Secret-9") {
		t.Error("doctor printed the password")
	}
	return out
}

// doctorSim starts `bulkprov sim` over TLS, seeded, with extra flags.
func doctorSim(t *testing.T, dir string, args ...string) (*simProc, string) {
	t.Helper()
	ca := filepath.Join(dir, "ca.pem")
	return startSim(t, append([]string{"--tls-ca-out", ca, "--seed", "../../samples/tenant.xlsx"}, args...)...), ca
}

func TestDoctor(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	sim, ca := doctorSim(t, dir)
	target := []string{"doctor", "--voss", sim.url, "--cupi", sim.url, "--ca-file", ca}

	t.Run("good setup", func(t *testing.T) {
		before := tlsWrites(t, sim.url, ca)
		r := bulkprov(t, creds, append(target, "--config", "../../samples/config.json")...)
		lines := checkDoctorLines(t, r)
		if r.code != 0 {
			t.Fatalf("exit %d, want 0:\n%s%s", r.code, r.stdout, r.stderr)
		}
		for _, c := range []string{"voss.tls", "voss.auth", "voss.export[data/User]", "voss.role[AAAGlobalENTCustomerAdministrator]",
			"voss.hierarchy[sys.hcs.CS-P.CS-NB.AAAGlobal]", "voss.latency", "voss.find[data/User]", "voss.find[relation/HcsAdminUserREL]", "cupi.find[user]", "cupi.list[userroles]", "cupi.get[credential/password]",
			"cupi.role[User Administrator]", "cupi.policy[Default Credential Policy]", "cupi.template[voicemailusertemplate]",
			"cupi.latency", "cupi.api[one-item-is-object]"} {
			if lines[c] != "ok" {
				t.Errorf("%s: %q, want ok", c, lines[c])
			}
		}
		if after := tlsWrites(t, sim.url, ca); fmt.Sprint(after) != fmt.Sprint(before) || len(after) == 0 {
			t.Errorf("doctor wrote: %v → %v", before, after)
		}
	})
	t.Run("missing mapped role", func(t *testing.T) {
		cfg := filepath.Join(dir, "cfg.json")
		os.WriteFile(cfg, []byte(`{"defaultHierarchy":"sys.hcs.CS-P.CS-NB.AAAGlobal","roles":{"AAAGlobalENTCustomerAdministrator":["User Administrator","Voicemail Auditor Typo"]},"credentialPolicies":{"X":"No Such Policy"}}`), 0o600)
		r := bulkprov(t, creds, append(target, "--config", cfg)...)
		lines := checkDoctorLines(t, r)
		if r.code != 1 || lines["cupi.role[Voicemail Auditor Typo]"] != "fail" || lines["cupi.policy[No Such Policy]"] != "fail" || lines["cupi.role[User Administrator]"] != "ok" {
			t.Fatalf("exit %d, want 1 with the missing role and policy named:\n%s", r.code, r.stdout)
		}
		// Named as the admin wrote them, never escaped (issue 25).
		if !strings.Contains(r.stdout, "\nfail  cupi.role[Voicemail Auditor Typo]  named by the config") || strings.Contains(r.stdout, "%20") {
			t.Errorf("the missing role is not named as written:\n%s", r.stdout)
		}
	})
	t.Run("plain http is a warning", func(t *testing.T) {
		plain := startSim(t)
		r := bulkprov(t, creds, "doctor", "--voss", plain.url, "--cupi", plain.url)
		lines := checkDoctorLines(t, r)
		if r.code != 1 || lines["voss.tls"] != "warn" || lines["cupi.tls"] != "warn" || lines["cupi.auth"] != "ok" {
			t.Fatalf("exit %d, want 1 with tls warnings:\n%s", r.code, r.stdout)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		r := bulkprov(t, creds, "doctor", "--voss", sim.url)
		if lines := checkDoctorLines(t, r); r.code != 3 || lines["voss.tls"] != "fail" {
			t.Fatalf("exit %d, want 3 with voss.tls failed:\n%s", r.code, r.stdout)
		}
	})
	t.Run("wrong credentials", func(t *testing.T) {
		wrong := []string{"BULKPROV_VOSS_USER=sim-admin", "BULKPROV_VOSS_PASSWORD=wrong-one", "BULKPROV_CUPI_USER=sim-admin", "BULKPROV_CUPI_PASSWORD=wrong-one"}
		r := bulkprov(t, wrong, target...)
		lines := checkDoctorLines(t, r)
		if r.code != 4 || lines["voss.auth"] != "fail" || lines["cupi.auth"] != "fail" {
			t.Fatalf("exit %d, want 4 with both auth checks failed:\n%s", r.code, r.stdout)
		}
		if strings.Contains(r.stdout, "wrong-one") {
			t.Fatal("doctor printed the password")
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		// Port 1: nothing listens there (a port freed here could be taken
		// by a simulator of a test running beside this one).
		r := bulkprov(t, creds, "doctor", "--voss", "https://127.0.0.1:1", "--cupi", sim.url, "--ca-file", ca)
		lines := checkDoctorLines(t, r)
		if r.code != 3 || lines["voss.reach"] != "fail" || lines["cupi.auth"] != "ok" {
			t.Fatalf("exit %d, want 3 with voss.reach failed and CUPI still checked:\n%s", r.code, r.stdout)
		}
	})
	t.Run("forbidden route", func(t *testing.T) {
		d := t.TempDir()
		forbid, ca2 := doctorSim(t, d, "--forbid", "/vmrest/credentialpolicies,POST /api/data/User/export/")
		r := bulkprov(t, creds, "doctor", "--voss", forbid.url, "--cupi", forbid.url, "--ca-file", ca2, "--config", "../../samples/config.json")
		lines := checkDoctorLines(t, r)
		if r.code != 4 || lines["cupi.list[credentialpolicies]"] != "fail" || lines["voss.export[data/User]"] != "fail" || lines["cupi.list[roles]"] != "ok" {
			t.Fatalf("exit %d, want 4 naming the refused permissions:\n%s", r.code, r.stdout)
		}
	})
}

// doctor with cupiClusters checks every cluster in its own block, with the
// cluster's own credentials: one good cluster and one refusing them is exit
// 4 naming cupi[bbb] only; with both good it is exit 1 (plain http).
func TestDoctorPerCluster(t *testing.T) {
	parallelE2E(t)
	dir := t.TempDir()
	sim := startClusterSim(t, "aaa", "bbb")
	cfg := filepath.Join(dir, "tenants.json")
	clusterConfig(t, cfg, sim.clusters)
	raw, _ := os.ReadFile(cfg)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	m["roles"] = map[string][]string{"AAAGlobalENTCustomerAdministrator": {"User Administrator"}}
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(cfg, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"doctor", "--voss", sim.url, "--config", cfg}

	t.Run("both good", func(t *testing.T) {
		r := bulkprov(t, creds, args...)
		lines := checkDoctorLines(t, r)
		if r.code != 1 { // plain http warns
			t.Fatalf("exit %d, want 1:\n%s%s", r.code, r.stdout, r.stderr)
		}
		for _, name := range []string{"aaa", "bbb"} {
			for _, c := range []string{"reach", "auth", "list[users]", "list[roles]", "role[User Administrator]", "template[voicemailusertemplate]", "latency"} {
				if got := lines["cupi["+name+"]."+c]; got != "ok" {
					t.Errorf("cupi[%s].%s: %q, want ok", name, c, got)
				}
			}
			if lines["cupi["+name+"].tls"] != "warn" {
				t.Errorf("cupi[%s].tls: %q, want warn (plain http)", name, lines["cupi["+name+"].tls"])
			}
		}
		for _, h := range []string{"AAAGlobal", "BBBGlobal"} {
			if got := lines["voss.hierarchy[sys.hcs.CS-P.CS-NB."+h+"]"]; got != "ok" {
				t.Errorf("the cluster prefix %s on VOSS: %q, want ok", h, got)
			}
		}
		for c := range lines {
			if strings.HasPrefix(c, "cupi.") {
				t.Errorf("%s checked with no --cupi", c)
			}
		}
		// One block per target, in order: VOSS, then cupi[aaa], cupi[bbb].
		var order []string
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			f := strings.SplitN(l, "  ", 3)
			target, _, _ := strings.Cut(f[1], ".")
			if len(order) == 0 || order[len(order)-1] != target {
				order = append(order, target)
			}
		}
		if strings.Join(order, " ") != "voss cupi[aaa] cupi[bbb]" {
			t.Errorf("blocks in the order %v, want voss cupi[aaa] cupi[bbb], each whole", order)
		}
	})
	t.Run("--sim serves the config's clusters", func(t *testing.T) {
		// The config's URLs lead nowhere: --sim serves the clusters itself.
		nowhere := filepath.Join(dir, "nowhere.json")
		clusterConfig(t, nowhere, map[string]string{"aaa": "http://127.0.0.1:1", "bbb": "http://127.0.0.1:1"})
		r := bulkprov(t, creds, "doctor", "--sim", "--config", nowhere)
		lines := checkDoctorLines(t, r)
		if lines["cupi[aaa].auth"] != "ok" || lines["cupi[bbb].auth"] != "ok" || lines["cupi[bbb].list[roles]"] != "ok" {
			t.Fatalf("exit %d, want both clusters checked on the simulators:\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("one cluster refuses the credentials", func(t *testing.T) {
		env := append(append([]string(nil), creds...), "BULKPROV_CUPI_BBB_USER=sim-admin", "BULKPROV_CUPI_BBB_PASSWORD=not-bbbs-password")
		r := bulkprov(t, env, append(args, "--cupi", sim.url)...)
		lines := checkDoctorLines(t, r)
		if r.code != 4 || lines["cupi[bbb].auth"] != "fail" || lines["cupi[aaa].auth"] != "ok" || lines["cupi.auth"] != "ok" || lines["voss.auth"] != "ok" {
			t.Fatalf("exit %d, want 4 with cupi[bbb].auth failed only:\n%s", r.code, r.stdout)
		}
		for _, l := range strings.Split(r.stdout, "\n") {
			if strings.Contains(l, "cupi[bbb].auth") && !strings.Contains(l, "BULKPROV_CUPI_BBB_USER") {
				t.Errorf("the refusal does not name the cluster's credentials: %s", l)
			}
			if strings.HasPrefix(l, "fail") && !strings.Contains(l, "cupi[bbb]") {
				t.Errorf("a failure outside cluster bbb: %s", l)
			}
		}
		if strings.Contains(r.stdout+r.stderr, "not-bbbs-password") {
			t.Fatal("doctor printed the password")
		}
	})
	t.Run("one cluster unreachable", func(t *testing.T) {
		down := filepath.Join(dir, "down.json")
		clusterConfig(t, down, map[string]string{"aaa": sim.clusters["aaa"], "bbb": "http://127.0.0.1:1"})
		r := bulkprov(t, creds, "doctor", "--voss", sim.url, "--config", down)
		lines := checkDoctorLines(t, r)
		if r.code != 3 || lines["cupi[bbb].reach"] != "fail" || lines["cupi[aaa].auth"] != "ok" {
			t.Fatalf("exit %d, want 3 with cupi[bbb].reach failed:\n%s", r.code, r.stdout)
		}
		// Access refused on one cluster outranks another unreachable.
		env := append(append([]string(nil), creds...), "BULKPROV_CUPI_AAA_USER=sim-admin", "BULKPROV_CUPI_AAA_PASSWORD=not-aaas-password")
		if r := bulkprov(t, env, "doctor", "--voss", sim.url, "--config", down); r.code != 4 {
			t.Fatalf("refused and unreachable: exit %d, want 4:\n%s", r.code, r.stdout)
		}
	})
}
