package targets

import (
	"encoding/base64"

	"github.com/bulkprov/bulkprov/internal/redact"
)

// Redaction is what Scrub puts where a secret was.
const Redaction = redact.Redaction

// AddSecret registers a secret the run holds, to be hidden by Scrub
// wherever a server quotes it (redact.AddSecret).
func AddSecret(s string) { redact.AddSecret(s) }

// Scrub returns text with every registered secret hidden, in clear or
// encoded (redact.Scrub). Every text a client quotes from a server passes
// it before it becomes an error.
func Scrub(text string) string { return redact.Scrub(text) }

// AddCredentials registers an admin's password, and the Basic
// authorization token it travels in, as secrets.
func AddCredentials(c Credentials) {
	AddSecret(c.Password)
	if c.Password != "" {
		AddSecret(base64.StdEncoding.EncodeToString([]byte(c.User + ":" + c.Password)))
	}
}
