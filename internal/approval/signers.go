// Package approval binds a change board's approval to a saved plan: SSH
// signatures (the SSHSIG format of ssh-keygen -Y sign, namespace
// bulkprov-plan) over the plan file's exact bytes, checked against an
// OpenSSH allowed_signers file (spec/cli.md, "Approval and audit").
//
// The signature format itself is github.com/hiddeco/sshsig over
// golang.org/x/crypto/ssh; this package adds the allowed_signers file, the
// policy (N distinct allowed keys) and the reasons a signature does or does
// not count, worded for the person who has to fix it.
package approval

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Namespace is the SSHSIG namespace of plan approvals.
const Namespace = "bulkprov-plan"

// Signer is one line of an allowed_signers file.
type Signer struct {
	Principals  []string // the line's principals, as written
	Key         ssh.PublicKey
	Namespaces  []string  // namespaces= patterns; nil: any
	ValidAfter  time.Time // zero: no bound
	ValidBefore time.Time // zero: no bound
	Line        int
}

// Principal is the signer's first principal.
func (s *Signer) Principal() string { return s.Principals[0] }

// Fingerprint is the key's SHA256 fingerprint as ssh-keygen -l prints it.
func Fingerprint(k ssh.PublicKey) string { return ssh.FingerprintSHA256(k) }

// KeyHex is the hex SHA-256 of the key's wire encoding: the name of a key
// that no allowed_signers line names.
func KeyHex(k ssh.PublicKey) string {
	return fmt.Sprintf("%x", sha256Sum(k.Marshal()))
}

// ReadAllowedSigners reads an OpenSSH allowed_signers file (ssh-keygen(1),
// "ALLOWED SIGNERS"): one "principals [options] keytype base64 [comment]"
// per line, # comments and blank lines skipped. Options namespaces=,
// valid-after= and valid-before= are honoured; cert-authority is refused
// (bulkprov checks keys, not certificates), as is any other option.
func ReadAllowedSigners(file string) ([]Signer, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("allowed signers: %w", err)
	}
	signers, err := ParseAllowedSigners(bytes.NewReader(b), file)
	if err != nil {
		return nil, err
	}
	if len(signers) == 0 {
		return nil, fmt.Errorf("allowed signers %s: no signer in the file", file)
	}
	return signers, nil
}

// ParseAllowedSigners parses allowed_signers lines; name names the file in
// errors.
func ParseAllowedSigners(r io.Reader, name string) ([]Signer, error) {
	var out []Signer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, err := parseSignerLine(line)
		if err != nil {
			return nil, fmt.Errorf("allowed signers %s line %d: %v", name, n, err)
		}
		s.Line = n
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("allowed signers %s: %v", name, err)
	}
	return out, nil
}

func parseSignerLine(line string) (Signer, error) {
	var s Signer
	princ, rest, err := firstField(line)
	if err != nil {
		return s, err
	}
	for _, p := range strings.Split(princ, ",") {
		if p = strings.TrimSpace(p); p != "" {
			s.Principals = append(s.Principals, p)
		}
	}
	if len(s.Principals) == 0 {
		return s, fmt.Errorf("no principal")
	}
	if strings.TrimSpace(rest) == "" {
		return s, fmt.Errorf("no key after the principals %q", princ)
	}
	// The rest is an authorized_keys line: [options] keytype base64 [comment].
	key, _, opts, _, err := ssh.ParseAuthorizedKey([]byte(rest))
	if err != nil {
		return s, fmt.Errorf("not a public key (want: principals [options] keytype base64-key): %v", err)
	}
	if _, ok := key.(*ssh.Certificate); ok {
		return s, fmt.Errorf("a certificate is not a signer key; list the key itself")
	}
	s.Key = key
	for _, o := range opts {
		k, v, hasValue := strings.Cut(o, "=")
		k = strings.ToLower(k)
		if hasValue {
			if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
				return s, fmt.Errorf("option %s: the value must be in double quotes", k)
			}
			v = v[1 : len(v)-1]
		}
		switch {
		case k == "cert-authority":
			return s, fmt.Errorf("cert-authority is not supported: bulkprov checks signer keys, not certificates; list each board member's key")
		case k == "namespaces" && hasValue:
			for _, ns := range strings.Split(v, ",") {
				if ns = strings.TrimSpace(ns); ns != "" {
					s.Namespaces = append(s.Namespaces, ns)
				}
			}
		case (k == "valid-after" || k == "valid-before") && hasValue:
			t, err := parseTime(v)
			if err != nil {
				return s, fmt.Errorf("%s=%q: %v", k, v, err)
			}
			if k == "valid-after" {
				s.ValidAfter = t
			} else {
				s.ValidBefore = t
			}
		default:
			return s, fmt.Errorf("unknown option %q (known: namespaces=, valid-after=, valid-before=)", o)
		}
	}
	return s, nil
}

// firstField splits off the first whitespace-delimited field, which may be
// in double quotes.
func firstField(line string) (string, string, error) {
	if line[0] == '"' {
		end := strings.IndexByte(line[1:], '"')
		if end < 0 {
			return "", "", fmt.Errorf("unterminated quote in the principals")
		}
		return line[1 : end+1], line[end+2:], nil
	}
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return line, "", nil
	}
	return line[:i], line[i+1:], nil
}

// parseTime reads OpenSSH's YYYYMMDD or YYYYMMDDHHMM[SS] times, in UTC with
// a trailing Z, else in local time (misc.c parse_absolute_time).
func parseTime(v string) (time.Time, error) {
	loc := time.Local
	if strings.HasSuffix(v, "Z") || strings.HasSuffix(v, "z") {
		v, loc = v[:len(v)-1], time.UTC
	}
	var layout string
	switch len(v) {
	case 8:
		layout = "20060102"
	case 12:
		layout = "200601021504"
	case 14:
		layout = "20060102150405"
	default:
		return time.Time{}, fmt.Errorf("want YYYYMMDD or YYYYMMDDHHMM[SS], with Z for UTC")
	}
	t, err := time.ParseInLocation(layout, v, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("want YYYYMMDD or YYYYMMDDHHMM[SS], with Z for UTC")
	}
	return t, nil
}

// allows reports why the line does not allow a signature in namespace ns
// at now ("" when it does).
func (s *Signer) allows(ns string, now time.Time) string {
	if s.Namespaces != nil && !matchList(ns, s.Namespaces) {
		return fmt.Sprintf("allowed signers line %d limits this key to namespaces %s", s.Line, strings.Join(s.Namespaces, ","))
	}
	if !s.ValidAfter.IsZero() && now.Before(s.ValidAfter) {
		return fmt.Sprintf("not yet valid: valid-after %s (allowed signers line %d)", s.ValidAfter.Format(time.RFC3339), s.Line)
	}
	if !s.ValidBefore.IsZero() && now.After(s.ValidBefore) {
		return fmt.Sprintf("expired: valid-before %s (allowed signers line %d)", s.ValidBefore.Format(time.RFC3339), s.Line)
	}
	return ""
}

// matchList is OpenSSH's match_pattern_list: a comma list of * and ?
// patterns, where a match of a !negated pattern refuses.
func matchList(s string, patterns []string) bool {
	ok := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		// path.Match knows * and ? (and [), and s holds no '/' that matters
		// here: a namespace is a plain word.
		if m, _ := path.Match(p, s); m {
			if neg {
				return false
			}
			ok = true
		}
	}
	return ok
}
