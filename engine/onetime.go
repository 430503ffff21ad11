package engine

import (
	"crypto/rand"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/bulkprov/bulkprov/transform"
)

// OneTimePasswords generates a password for each VOSS user a run creates
// without one (a tenant replay: exports carry no secrets), and marks the
// user "change password on next login". The values live in memory and in
// the one 0600 file the operator asked for; nowhere else.
type OneTimePasswords struct {
	mu  sync.Mutex
	ops map[*Op]string
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

// apply gives a create op without a password a one-time one; prefix is ""
// for data/User and "AdminUser." for relation/HcsAdminUserREL.
func (p *OneTimePasswords) apply(op *Op, w transform.Want, secrets map[string]string) map[string]string {
	prefix := ""
	if w.Model == transform.KindAdminREL {
		prefix = "AdminUser."
	}
	if _, has := secrets[prefix+"password"]; has {
		return secrets
	}
	out := map[string]string{prefix + "password": p.generate(op)}
	for k, v := range secrets {
		out[k] = v
	}
	body := transform.CopyTree(op.Body)
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
	op.Changes = append(op.Changes, Change{Field: prefix + "account_information.change_password_on_login", New: true})
	return out
}

// WriteFile writes the one-time passwords of the creates that were done
// to path (created new, 0600): hierarchy, username, password.
func (p *OneTimePasswords) WriteFile(path string) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var lines []string
	for op, pw := range p.ops {
		if op.Status != Done {
			continue
		}
		h, user, _ := strings.Cut(op.Key, "/")
		if i := strings.LastIndex(op.Key, "/"); i >= 0 {
			h, user = op.Key[:i], op.Key[i+1:]
		}
		lines = append(lines, fmt.Sprintf("%s,%s,%s\n", h, user, pw))
	}
	sort.Strings(lines)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	if _, err := f.WriteString("hierarchy,username,one_time_password\n" + strings.Join(lines, "")); err != nil {
		f.Close()
		return 0, err
	}
	return len(lines), f.Close()
}
