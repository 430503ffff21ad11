package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/targets"
)

// A run stopped by its own disk says so — "disk full", never "target
// unreachable" (issue 23, finding 7); the same class of stop has the same
// exit code and wording whatever the target.
func TestFatalExitWording(t *testing.T) {
	diskFull := &fs.PathError{Op: "write", Path: "/state/run.journal", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		name    string
		err     error
		code    int
		want    string
		notWant string
	}{
		{"disk full", fmt.Errorf("journal: %w", diskFull), exitInterrupted, "disk full", "unreachable"},
		{"read-only state", &fs.PathError{Op: "open", Path: "/state/x", Err: syscall.EROFS}, exitInterrupted, "read-only file system", "unreachable"},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, exitInterrupted, "target unreachable", "disk"},
		{"access", &targets.APIError{Target: "cupi", Method: "GET", Path: "/users", Status: 401}, exitAccess, "access refused", ""},
		{"bad answer", &targets.BadAnswerError{Target: "cupi", Method: "GET", Path: "/users", Status: 200, ContentType: "text/html", Detail: "x"}, exitInterrupted, "not the API's answer", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fatalExit(&engine.FatalError{Err: tc.err})
			if code := exitCode(err); code != tc.code {
				t.Errorf("exit %d, want %d: %v", code, tc.code, err)
			}
			if !strings.Contains(err.Error(), tc.want) || (tc.notWant != "" && strings.Contains(err.Error(), tc.notWant)) {
				t.Errorf("%q: want %q, not %q", err.Error(), tc.want, tc.notWant)
			}
		})
	}
}
