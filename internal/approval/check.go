package approval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Policy is an approval policy: at least Required distinct keys of
// Signers must have signed the plan.
type Policy struct {
	File     string // the allowed_signers file, for messages
	Signers  []Signer
	Required int
}

// Approver is a signer whose signature counts.
type Approver struct {
	Principal string `json:"principal"`
	Key       string `json:"key"` // SHA256:... fingerprint
	File      string `json:"file,omitempty"`
}

// Finding is one signature found beside the plan and what became of it.
type Finding struct {
	File      string // the .sig file
	Index     int    // 1-based, within the file (a file may hold several)
	Of        int    // signatures in the file
	Principal string // when the key is in the allowed signers
	Key       string // fingerprint, when the signature parsed
	Counts    bool
	Reason    string // why it does not count (or "counts")
}

func (f Finding) String() string {
	where := f.File
	if f.Of > 1 {
		where = fmt.Sprintf("%s (signature %d of %d)", f.File, f.Index, f.Of)
	}
	who := f.Key
	if f.Principal != "" {
		who = f.Principal + " " + f.Key
	}
	if who != "" {
		who = " by " + who
	}
	return where + who + ": " + f.Reason
}

// Result is the outcome of checking a plan's signatures.
type Result struct {
	Plan       string
	PlanSHA256 string
	Required   int
	Findings   []Finding
	Approvers  []Approver
}

// OK reports whether enough distinct allowed keys signed the plan.
func (r *Result) OK() bool { return len(r.Approvers) >= r.Required && r.Required > 0 }

// SignatureFiles are the signature files of plan: PLAN.sig and every
// PLAN.*.sig beside it, sorted.
func SignatureFiles(plan string) ([]string, error) {
	dir, base := filepath.Split(plan)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() {
			continue
		}
		if n == base+".sig" || (strings.HasPrefix(n, base+".") && strings.HasSuffix(n, ".sig") && len(n) > len(base)+len("..sig")) {
			out = append(out, filepath.Join(filepath.Dir(plan), n))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Check reads the plan's signature files and checks each signature
// against the policy at time now. The plan's bytes are read once per
// signature as they are hashed (a plan can be large); its SHA-256 is
// taken in the first pass.
func (p *Policy) Check(plan string, now time.Time) (*Result, error) {
	sum, err := fileSum(plan)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: plan, PlanSHA256: sum, Required: p.Required}
	files, err := SignatureFiles(plan)
	if err != nil {
		return nil, err
	}
	counted := map[string]string{} // fingerprint -> where it counted
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			res.Findings = append(res.Findings, Finding{File: f, Reason: "cannot be read: " + err.Error()})
			continue
		}
		blocks, bad := pemBlocks(b)
		if len(blocks) == 0 {
			reason := "holds no SSH signature (no -----BEGIN SSH SIGNATURE----- block)"
			if bad != "" {
				reason = bad
			}
			res.Findings = append(res.Findings, Finding{File: f, Reason: reason})
			continue
		}
		for i, blk := range blocks {
			fd := Finding{File: f, Index: i + 1, Of: len(blocks)}
			p.judge(&fd, plan, sum, blk, now, counted)
			if fd.Counts {
				res.Approvers = append(res.Approvers, Approver{Principal: fd.Principal, Key: fd.Key, File: f})
			}
			res.Findings = append(res.Findings, fd)
		}
	}
	// The plan must not have changed while it was checked.
	if again, err := fileSum(plan); err != nil || again != sum {
		return nil, fmt.Errorf("%s changed while its signatures were checked", plan)
	}
	return res, nil
}

func (p *Policy) judge(fd *Finding, plan, sum string, blk []byte, now time.Time, counted map[string]string) {
	sig, err := sshsig.ParseSignature(blk)
	if err != nil {
		fd.Reason = "not a valid SSH signature: " + err.Error()
		return
	}
	if _, ok := sig.PublicKey.(*ssh.Certificate); ok {
		fd.Reason = "made with a certificate, which bulkprov does not accept; sign with the key the allowed signers file lists"
		return
	}
	fd.Key = Fingerprint(sig.PublicKey)
	var lines []*Signer
	for i := range p.Signers {
		if bytes.Equal(p.Signers[i].Key.Marshal(), sig.PublicKey.Marshal()) {
			lines = append(lines, &p.Signers[i])
		}
	}
	if len(lines) > 0 {
		fd.Principal = lines[0].Principal()
	}
	if sig.Namespace != Namespace {
		fd.Reason = fmt.Sprintf("wrong namespace %q (a plan approval is signed with -n %s)", sig.Namespace, Namespace)
		return
	}
	if sig.Signature != nil && sig.Signature.Format == ssh.KeyAlgoRSA {
		fd.Reason = "an RSA signature with SHA-1 (ssh-rsa), which OpenSSH refuses; sign again with a current ssh-keygen"
		return
	}
	f, err := os.Open(plan)
	if err != nil {
		fd.Reason = "plan cannot be read: " + err.Error()
		return
	}
	err = sshsig.Verify(f, sig, sig.PublicKey, sig.HashAlgorithm, Namespace)
	f.Close()
	if err != nil {
		if errors.Is(err, sshsig.ErrUnsupportedHashAlgorithm) || errors.Is(err, sshsig.ErrUnavailableHashAlgorithm) {
			fd.Reason = "hash " + string(sig.HashAlgorithm) + " is not supported"
			return
		}
		fd.Reason = fmt.Sprintf("does not match the plan's bytes: the plan changed since it was signed (its sha256 is now %s), or the signature is damaged", sum)
		return
	}
	if len(lines) == 0 {
		fd.Reason = fmt.Sprintf("key not allowed: %s is not in the allowed signers file %s", fd.Key, p.File)
		return
	}
	why := ""
	for _, s := range lines {
		if why = s.allows(Namespace, now); why == "" {
			fd.Principal = s.Principal()
			break
		}
	}
	if why != "" {
		fd.Reason = why
		return
	}
	if prev, dup := counted[fd.Key]; dup {
		fd.Reason = "same key as " + prev + " (a key counts once)"
		return
	}
	counted[fd.Key] = fd.File
	if fd.Of > 1 {
		counted[fd.Key] = fmt.Sprintf("%s (signature %d)", fd.File, fd.Index)
	}
	fd.Counts = true
	fd.Reason = "counts"
}

// pemBlocks returns the SSH SIGNATURE blocks of b, and a complaint about
// anything else found.
func pemBlocks(b []byte) ([][]byte, string) {
	var out [][]byte
	bad := ""
	for {
		blk, rest := pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type == sshsig.PEMType {
			out = append(out, blk.Bytes)
		} else if bad == "" {
			bad = fmt.Sprintf("holds a %q block, not an SSH SIGNATURE", blk.Type)
		}
		b = rest
	}
	return out, bad
}

func fileSum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sha256Sum(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

// Refusal is the error of a plan without enough approvals: its message
// names each signature and why it counts or not.
type Refusal struct{ Result *Result }

func (e *Refusal) Error() string {
	r := e.Result
	var b strings.Builder
	fmt.Fprintf(&b, "%s has %d of the %d approval(s) required (signatures of distinct keys in the allowed signers file, namespace %s, over the plan's exact bytes, sha256 %s)", r.Plan, len(r.Approvers), r.Required, Namespace, r.PlanSHA256)
	if len(r.Findings) == 0 {
		fmt.Fprintf(&b, "; no signature found (looked for %s.sig and %s.*.sig)", r.Plan, r.Plan)
	}
	for _, f := range r.Findings {
		b.WriteString("\n  ")
		b.WriteString(f.String())
	}
	return b.String()
}
