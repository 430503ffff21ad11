package audit

import (
	"net/url"
	"regexp"
	"strings"
)

// secretFlag names flags whose value is a secret. bulkprov takes secrets
// from the environment only and has no such flag; this is the guard should
// one appear.
var secretFlag = regexp.MustCompile(`(?i)^-{1,2}([a-z0-9-]*-)?(password|passwd|passphrase|token|pin|credentials?|api-?key)(-[a-z0-9-]*)?$`)

// ScrubArgs returns a command line fit for the audit log: the value of a
// flag named like a secret becomes ***, and so does the password of a
// URL's user information (https://user:pass@host).
func ScrubArgs(args []string) []string {
	out := make([]string, len(args))
	redactNext := false
	for i, a := range args {
		switch {
		case redactNext:
			out[i] = "***"
			redactNext = false
			continue
		case strings.HasPrefix(a, "-"):
			name, _, hasValue := strings.Cut(a, "=")
			if secretFlag.MatchString(name) {
				if hasValue {
					out[i] = name + "=***"
				} else {
					out[i], redactNext = a, true
				}
				continue
			}
		}
		out[i] = scrubURLs(a)
	}
	return out
}

// ScrubText hides the password of every URL with user information in s
// (an error message, a target).
func ScrubText(s string) string { return scrubURLs(s) }

var urlish = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/@]*@[^\s]*`)

// scrubURLs hides the password of every URL with user information in s.
func scrubURLs(s string) string {
	return urlish.ReplaceAllStringFunc(s, func(m string) string {
		u, err := url.Parse(m)
		if err != nil || u.User == nil {
			// Not parseable: drop everything before the @.
			scheme, rest, _ := strings.Cut(m, "://")
			_, host, _ := strings.Cut(rest, "@")
			return scheme + "://***@" + host
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "***")
		}
		return strings.Replace(u.String(), "%2A%2A%2A", "***", 1)
	})
}
