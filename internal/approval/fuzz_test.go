package approval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An allowed signers file or a signature file is read from disk as it
// is: any bytes give signers or an error, a finding or a refusal, never a
// panic.
func FuzzAllowedSignersAndSignatures(f *testing.F) {
	f.Add(`alice@x namespaces="bulkprov-plan" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEHJJ+oSOtLqXjBV5DSLIqmXxExK0f/s7exBIE9vTDT9`, "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n")
	f.Add(`"a b" cert-authority x`, "")
	f.Add(`"`, "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----")
	f.Fuzz(func(t *testing.T, allowed, sig string) {
		signers, err := ParseAllowedSigners(strings.NewReader(allowed), "F")
		if err != nil {
			return
		}
		dir := t.TempDir()
		plan := filepath.Join(dir, "plan.json")
		os.WriteFile(plan, []byte("{}\n"), 0o644)
		os.WriteFile(plan+".sig", []byte(sig), 0o644)
		res, err := (&Policy{File: "F", Signers: signers, Required: 1}).Check(plan, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Findings) == 0 {
			t.Fatal("a signature file with no finding")
		}
		_ = (&Refusal{res}).Error()
	})
}
