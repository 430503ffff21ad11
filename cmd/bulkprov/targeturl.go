package main

import (
	"net/url"
	"strings"
)

// checkTargetURL refuses a --voss or --cupi value that is not an http(s)
// base URL, or that carries credentials: they come from the environment
// only (cli.md, Targets), and user:password@ in a URL would sit in shell
// history and process listings. The error never repeats the URL's
// password.
func checkTargetURL(flag, raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err == nil && u.User != nil {
		u.User = nil
		return fail(exitInvalid, "%s: the URL carries a user name or password (%s://USER@%s): credentials come from the environment only — BULKPROV_VOSS_USER/_PASSWORD, BULKPROV_CUPI_USER/_PASSWORD (README, \"Credentials\"); give the URL without them",
			flag, u.Scheme, u.Host)
	}
	if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http") {
		return fail(exitInvalid, "%s %q: expected a URL such as https://host:port", flag, raw)
	}
	return nil
}
