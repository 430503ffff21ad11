package approval

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// Signed is what Sign wrote.
type Signed struct {
	Path      string // PLAN.<principal>.sig
	Principal string
	Key       string // fingerprint
}

// Sign signs plan's bytes with the private key at keyPath in the
// bulkprov-plan namespace (SHA-512, as ssh-keygen -Y sign) and writes the
// armored signature to PLAN.<principal>.sig: the key's first principal in
// signers, else the hex SHA-256 of the key. The signature is verified
// before it is written.
func Sign(plan, keyPath string, signers []Signer) (*Signed, error) {
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("--key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(kb)
	var pm *ssh.PassphraseMissingError
	if errors.As(err, &pm) {
		return nil, fmt.Errorf("--key %s is protected by a passphrase, which bulkprov does not ask for: sign with ssh-keygen -Y sign -n %s -f %s %s (it asks, or uses ssh-agent), then rename %s.sig to %s.NAME.sig", keyPath, Namespace, keyPath, plan, plan, plan)
	}
	if err != nil {
		return nil, fmt.Errorf("--key %s: not an OpenSSH private key: %v", keyPath, err)
	}
	pub := signer.PublicKey()
	principal := KeyHex(pub)
	for i := range signers {
		if bytes.Equal(signers[i].Key.Marshal(), pub.Marshal()) {
			principal = signers[i].Principal()
			break
		}
	}
	f, err := os.Open(plan)
	if err != nil {
		return nil, err
	}
	sig, err := sshsig.Sign(f, signer, sshsig.HashSHA512, Namespace)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("signing %s: %v", plan, err)
	}
	f, err = os.Open(plan)
	if err != nil {
		return nil, err
	}
	err = sshsig.Verify(f, sig, pub, sig.HashAlgorithm, Namespace)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s changed while it was signed; sign again", plan)
	}
	out := plan + "." + fileSafe(principal) + ".sig"
	if err := writeFile(out, sshsig.Armor(sig)); err != nil {
		return nil, err
	}
	return &Signed{Path: out, Principal: principal, Key: Fingerprint(pub)}, nil
}

// fileSafe keeps a principal's letters, digits and @ . _ - and writes
// any other byte as _, so a principal makes one file name.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '@', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		out = "_"
	}
	return out
}

// writeFile writes b to path through a temporary file renamed over it.
func writeFile(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
