package kinds

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
)

// OneTimePasswords generates a password for each VOSS user a run creates
// without one (a tenant replay: exports carry no secrets), and marks the
// user "change password on next login". The values live in memory and in
// the one 0600 file the operator asked for, appended and synced before
// each create is sent; nowhere else.
type OneTimePasswords struct {
	mu      sync.Mutex
	ops     map[*Op]string
	file    *os.File
	path    string
	written int
}

// NewOneTimePasswords returns an empty generator.
func NewOneTimePasswords() *OneTimePasswords { return &OneTimePasswords{ops: map[*Op]string{}} }

const otpAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!"

func (p *OneTimePasswords) generate(op *Op) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = otpAlphabet[int(b[i])%len(otpAlphabet)]
	}
	pw := string(b)
	p.mu.Lock()
	p.ops[op] = pw
	p.mu.Unlock()
	return pw
}

// apply gives a create op without a password a one-time one; prefix is
// where the model keeps the password ("" or "AdminUser.").
func (p *OneTimePasswords) apply(op *Op, prefix string, secrets Secrets) Secrets {
	if _, has := secrets.Get(prefix + "password"); has {
		return secrets
	}
	out := secrets.Clone() // never the want's own
	out.Set(prefix+"password", p.generate(op))
	op.Changes = append(op.Changes, Change{Field: prefix + "account_information.change_password_on_login", New: true})
	if op.Body == nil {
		return out // the body is derived from the changes (sendBody)
	}
	body := plan.CopyTree(op.Body)
	node := body
	if prefix != "" {
		sub, _ := node["AdminUser"].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
			node["AdminUser"] = sub
		}
		node = sub
	}
	ai, _ := node["account_information"].(map[string]any)
	if ai == nil {
		ai = map[string]any{}
		node["account_information"] = ai
	}
	ai["change_password_on_login"] = true
	op.Body = body
	return out
}

// Open opens the file the passwords are written to: created 0600, or,
// when resuming an interrupted run, the file that run started (lines are
// only ever appended, so nothing handed out is lost).
func (p *OneTimePasswords) Open(path string, resume bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND | os.O_EXCL | syscall.O_NOFOLLOW
	if resume {
		flags &^= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("--one-time-passwords %s already exists; name a new file (passwords handed out before must not be overwritten)", path)
	}
	if err != nil {
		return fmt.Errorf("--one-time-passwords: %w", err)
	}
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		if _, err := f.WriteString("hierarchy,username,one_time_password\n"); err != nil {
			f.Close()
			return fmt.Errorf("--one-time-passwords: %w", err)
		}
	}
	p.file, p.path = f, path
	return nil
}

// Record appends op's generated password to the file and syncs it before
// the create is sent, so a password that may land on the server is never
// only in memory. A user created twice (a resumed run that proved the
// first create did not land) has two lines: the last one is in force.
func (p *OneTimePasswords) Record(op *Op) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	pw, ok := p.ops[op]
	if !ok || p.file == nil {
		return nil
	}
	h, user := op.Key, ""
	if i := strings.LastIndex(op.Key, "/"); i >= 0 {
		h, user = op.Key[:i], op.Key[i+1:]
	}
	if _, err := fmt.Fprintf(p.file, "%s,%s,%s\n", h, user, pw); err != nil {
		return fmt.Errorf("--one-time-passwords %s: %w", p.path, err)
	}
	if err := p.file.Sync(); err != nil {
		return fmt.Errorf("--one-time-passwords %s: %w", p.path, err)
	}
	p.written++
	return nil
}

// Close closes the file and returns how many passwords were written.
func (p *OneTimePasswords) Close() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.file == nil {
		return p.written, nil
	}
	err := p.file.Close()
	p.file = nil
	return p.written, err
}
