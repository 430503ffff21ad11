package approval

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sshKeygen skips the test when the real ssh-keygen is missing (.ci/run
// installs openssh-client).
func sshKeygen(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen not installed (apt-get install openssh-client)")
	}
	return p
}

// newKey makes an ed25519 key with the real ssh-keygen and returns the
// private key's path and the public key line.
func newKey(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	key := filepath.Join(dir, name)
	if out, err := exec.Command(sshKeygen(t), "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return key, strings.TrimSpace(string(pub))
}

// keygenSign signs file with ssh-keygen -Y sign in namespace ns and moves
// the signature to dest.
func keygenSign(t *testing.T, key, ns, file, dest string) {
	t.Helper()
	if out, err := exec.Command(sshKeygen(t), "-Y", "sign", "-n", ns, "-f", key, file).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v: %s", err, out)
	}
	if err := os.Rename(file+".sig", dest); err != nil {
		t.Fatal(err)
	}
}

// keygenVerify runs ssh-keygen -Y verify as principal and reports whether
// it accepted the signature.
func keygenVerify(t *testing.T, allowed, principal, sig, file string) bool {
	t.Helper()
	cmd := exec.Command(sshKeygen(t), "-Y", "verify", "-f", allowed, "-I", principal, "-n", Namespace, "-s", sig)
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd.Stdin = in
	out, err := cmd.CombinedOutput()
	t.Logf("ssh-keygen -Y verify -I %s: %s", principal, bytes.TrimSpace(out))
	return err == nil
}

type board struct {
	dir, plan, allowed string
	keys               map[string]string // name -> private key
	policy             *Policy
}

// newBoard makes alice, bob and mallory (not allowed), a plan and an
// allowed signers file with extra lines given.
func newBoard(t *testing.T, extra string) *board {
	dir := t.TempDir()
	b := &board{dir: dir, plan: filepath.Join(dir, "plan.json"), allowed: filepath.Join(dir, "allowed_signers"), keys: map[string]string{}}
	var lines []string
	for _, n := range []string{"alice", "bob", "mallory", "carol"} {
		key, pub := newKey(t, dir, n)
		b.keys[n] = key
		switch n {
		case "alice", "bob":
			lines = append(lines, n+"@example.com "+pub)
		case "carol":
			lines = append(lines, strings.ReplaceAll(extra, "KEY", pub))
		}
	}
	if err := os.WriteFile(b.allowed, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.plan, []byte(`{"version":1,"operations":[]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	signers, err := ReadAllowedSigners(b.allowed)
	if err != nil {
		t.Fatal(err)
	}
	b.policy = &Policy{File: b.allowed, Signers: signers, Required: 2}
	return b
}

func TestCheckNamesEachSignature(t *testing.T) {
	type sig struct{ who, ns, file string }
	cases := []struct {
		name   string
		extra  string // carol's allowed signers line
		sigs   []sig
		after  func(b *board) // after signing
		ok     bool
		counts int
		want   []string // in the refusal
	}{
		{name: "unsigned", want: []string{"0 of the 2", "no signature found"}},
		{name: "one signature", sigs: []sig{{"alice", Namespace, "alice"}}, counts: 1, want: []string{"1 of the 2", "alice@example.com SHA256:", "counts"}},
		{name: "two signatures", sigs: []sig{{"alice", Namespace, "alice"}, {"bob", Namespace, "bob"}}, ok: true, counts: 2},
		{name: "changed by one byte", sigs: []sig{{"alice", Namespace, "alice"}, {"bob", Namespace, "bob"}},
			after: func(b *board) {
				p, _ := os.ReadFile(b.plan)
				p[len(p)-2] = ' '
				os.WriteFile(b.plan, p, 0o644)
			}, want: []string{"does not match the plan's bytes: the plan changed since it was signed"}},
		{name: "key not allowed", sigs: []sig{{"alice", Namespace, "alice"}, {"mallory", Namespace, "mallory"}}, counts: 1, want: []string{"key not allowed"}},
		{name: "other namespace", sigs: []sig{{"alice", Namespace, "alice"}, {"bob", "git", "bob"}}, counts: 1, want: []string{`wrong namespace "git"`}},
		{name: "same key twice", sigs: []sig{{"alice", Namespace, "alice"}, {"alice", Namespace, "alice2"}}, counts: 1, want: []string{"same key as", "a key counts once"}},
		{name: "expired", extra: `carol@example.com valid-before="20200101Z" KEY`, sigs: []sig{{"alice", Namespace, "alice"}, {"carol", Namespace, "carol"}}, counts: 1, want: []string{"expired: valid-before 2020-01-01T00:00:00Z"}},
		{name: "not yet valid", extra: `carol@example.com valid-after="29990101Z" KEY`, sigs: []sig{{"alice", Namespace, "alice"}, {"carol", Namespace, "carol"}}, counts: 1, want: []string{"not yet valid: valid-after 2999-01-01"}},
		{name: "namespace restricted", extra: `carol@example.com namespaces="git,file" KEY`, sigs: []sig{{"alice", Namespace, "alice"}, {"carol", Namespace, "carol"}}, counts: 1, want: []string{"limits this key to namespaces git,file"}},
		{name: "namespace pattern allows", extra: `carol@example.com namespaces="bulkprov-*" KEY`, sigs: []sig{{"alice", Namespace, "alice"}, {"carol", Namespace, "carol"}}, ok: true, counts: 2},
		{name: "not a signature", sigs: []sig{{"alice", Namespace, "alice"}, {"bob", Namespace, "garbage"}}, counts: 1, want: []string{"holds no SSH signature"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			extra := tc.extra
			if extra == "" {
				extra = "# no carol"
			}
			b := newBoard(t, extra)
			for _, s := range tc.sigs {
				dest := b.plan + "." + s.file + ".sig"
				if s.file == "garbage" {
					os.WriteFile(dest, []byte("I approve\n"), 0o644)
					continue
				}
				keygenSign(t, b.keys[s.who], s.ns, b.plan, dest)
			}
			if tc.after != nil {
				tc.after(b)
			}
			res, err := b.policy.Check(b.plan, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() != tc.ok || len(res.Approvers) != tc.counts {
				t.Fatalf("ok %v with %d approvers, want %v with %d: %v", res.OK(), len(res.Approvers), tc.ok, tc.counts, (&Refusal{res}).Error())
			}
			msg := (&Refusal{res}).Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("refusal lacks %q:\n%s", w, msg)
				}
			}
			if len(res.Findings) != len(tc.sigs) {
				t.Errorf("%d findings for %d signature files:\n%s", len(res.Findings), len(tc.sigs), msg)
			}
		})
	}
}

// Verification agrees with ssh-keygen -Y verify both ways: what Sign
// writes, ssh-keygen accepts; what ssh-keygen refuses (expired, other
// namespace allowed only), Check refuses.
func TestAgreesWithSSHKeygen(t *testing.T) {
	b := newBoard(t, `carol@example.com valid-before="20200101Z" KEY`)
	s, err := Sign(b.plan, b.keys["alice"], b.policy.Signers)
	if err != nil {
		t.Fatal(err)
	}
	if s.Path != b.plan+".alice@example.com.sig" || s.Principal != "alice@example.com" {
		t.Errorf("Sign wrote %+v", s)
	}
	if !keygenVerify(t, b.allowed, "alice@example.com", s.Path, b.plan) {
		t.Error("ssh-keygen -Y verify refused what Sign wrote")
	}
	// A key in no allowed signers line is named by its hex SHA-256.
	m, err := Sign(b.plan, b.keys["mallory"], b.policy.Signers)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m.Path, ".sig") || len(m.Principal) != 64 {
		t.Errorf("an unlisted key's signature: %+v", m)
	}
	// carol's line has expired: ssh-keygen and Check both refuse.
	carol := b.plan + ".carol.sig"
	keygenSign(t, b.keys["carol"], Namespace, b.plan, carol)
	if keygenVerify(t, b.allowed, "carol@example.com", carol, b.plan) {
		t.Error("ssh-keygen accepted an expired signer; the test is wrong")
	}
	res, err := b.policy.Check(b.plan, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Approvers) != 1 || res.Approvers[0].Principal != "alice@example.com" {
		t.Errorf("approvers %+v, want alice only: %s", res.Approvers, (&Refusal{res}).Error())
	}
	// Changed by a byte: both refuse.
	os.WriteFile(b.plan, []byte(`{"version":1,"operations":[] }`+"\n"), 0o644)
	if keygenVerify(t, b.allowed, "alice@example.com", s.Path, b.plan) {
		t.Error("ssh-keygen accepted a changed plan; the test is wrong")
	}
	if res, _ := b.policy.Check(b.plan, time.Now()); len(res.Approvers) != 0 {
		t.Errorf("a changed plan kept approvers %+v", res.Approvers)
	}
}

// Keys of each type ssh-keygen makes: what Sign writes, ssh-keygen
// verifies, and what ssh-keygen signs, Check counts.
func TestKeyTypesAgree(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.json")
	os.WriteFile(plan, []byte(`{"version":1}`+"\n"), 0o644)
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		t.Run(typ, func(t *testing.T) {
			key := filepath.Join(dir, typ)
			if out, err := exec.Command(sshKeygen(t), "-q", "-t", typ, "-N", "", "-C", typ, "-f", key).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			pub, _ := os.ReadFile(key + ".pub")
			allowed := filepath.Join(dir, typ+".allowed")
			os.WriteFile(allowed, []byte(typ+"@x "+string(pub)), 0o644)
			signers, err := ReadAllowedSigners(allowed)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Sign(plan, key, signers)
			if err != nil {
				t.Fatal(err)
			}
			if !keygenVerify(t, allowed, typ+"@x", s.Path, plan) {
				t.Errorf("ssh-keygen refused Sign's %s signature", typ)
			}
			os.Remove(s.Path)
			keygenSign(t, key, Namespace, plan, plan+"."+typ+".sig")
			res, err := (&Policy{File: allowed, Signers: signers, Required: 1}).Check(plan, time.Now())
			if err != nil || !res.OK() {
				t.Errorf("Check refused ssh-keygen's %s signature: %v %v", typ, err, res)
			}
			os.Remove(plan + "." + typ + ".sig")
		})
	}
}

// A key with a passphrase is refused with the ssh-keygen command that
// signs with it, and nothing is written.
func TestSignPassphraseKey(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	if out, err := exec.Command(sshKeygen(t), "-q", "-t", "ed25519", "-N", "a passphrase", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	plan := filepath.Join(dir, "plan.json")
	os.WriteFile(plan, []byte("{}\n"), 0o644)
	_, err := Sign(plan, key, nil)
	if err == nil || !strings.Contains(err.Error(), "ssh-keygen -Y sign -n bulkprov-plan -f "+key) {
		t.Errorf("Sign with a passphrase key: %v", err)
	}
	if files, _ := SignatureFiles(plan); len(files) != 0 {
		t.Errorf("wrote %v", files)
	}
}

func TestParseAllowedSigners(t *testing.T) {
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEHJJ+oSOtLqXjBV5DSLIqmXxExK0f/s7exBIE9vTDT9 me"
	cases := []struct {
		line, err string
		check     func(s Signer) bool
	}{
		{line: "alice@x " + key, check: func(s Signer) bool { return s.Principal() == "alice@x" && s.Namespaces == nil }},
		{line: `"alice@x,al@y" ` + key, check: func(s Signer) bool { return len(s.Principals) == 2 }},
		{line: `a namespaces="bulkprov-plan,git",valid-after="20260101",valid-before="202701021530Z" ` + key, check: func(s Signer) bool {
			return len(s.Namespaces) == 2 && s.ValidAfter.Year() == 2026 && s.ValidBefore.Equal(time.Date(2027, 1, 2, 15, 30, 0, 0, time.UTC))
		}},
		{line: "a cert-authority " + key, err: "cert-authority is not supported"},
		{line: `a valid-before="2027" ` + key, err: "want YYYYMMDD"},
		{line: `a no-touch-required ` + key, err: "unknown option"},
		{line: "alice@x", err: "no key"},
		{line: "alice@x ssh-ed25519 notbase64", err: "not a public key"},
	}
	for _, tc := range cases {
		ss, err := ParseAllowedSigners(strings.NewReader("# comment\n\n"+tc.line+"\n"), "F")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "F line 3") {
				t.Errorf("%s: error %v, want %q at line 3", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || len(ss) != 1 || !tc.check(ss[0]) {
			t.Errorf("%s: %+v, %v", tc.line, ss, err)
		}
	}
}

func TestSignatureFiles(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"plan.json", "plan.json.sig", "plan.json.a.sig", "plan.json.b.c.sig", "plan.json..sig", "plan.jsonx.sig", "other.json.sig", "plan.json.sig.bak"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	got, err := SignatureFiles(filepath.Join(dir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range got {
		names = append(names, filepath.Base(g))
	}
	if strings.Join(names, " ") != "plan.json.a.sig plan.json.b.c.sig plan.json.sig" {
		t.Errorf("signature files %v", names)
	}
}
