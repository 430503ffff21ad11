package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/targets"
)

// The exit of a run that stopped short follows the documented precedence
// (4 before 3) whatever stopped it, and names everything that did.
func TestStoppedExitPrecedence(t *testing.T) {
	refused := &engine.FatalError{Err: &targets.APIError{Target: "voss", Method: "POST", Path: "/api/data/User", Status: 401, Message: "Unauthorized"}}
	busy := &targets.APIError{Target: "cupi", Method: "GET", Path: "/vmrest/users", Status: 503, Message: "busy"}
	cases := []struct {
		name     string
		down     map[string]error
		applyErr error
		code     int
		mentions []string
	}{
		{"nothing", nil, nil, 0, nil},
		{"a cluster down", map[string]error{"aaa": busy}, nil, exitInterrupted, []string{"aaa"}},
		{"VOSS refused", nil, refused, exitAccess, []string{"access refused"}},
		{"VOSS refused while a cluster was down", map[string]error{"aaa": busy}, refused, exitAccess, []string{"access refused", "aaa"}},
		{"interrupted while a cluster was down", map[string]error{"aaa": busy}, engine.ErrInterrupted, exitInterrupted, []string{"interrupted", "aaa"}},
		{"a cluster refused at apply", nil, &engine.ClustersDown{Errs: map[string]error{"bbb": &targets.APIError{Status: 403}}}, exitAccess, []string{"bbb"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := stoppedExit(&engine.Plan{Down: c.down}, c.applyErr)
			if c.code == 0 {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != c.code {
				t.Fatalf("got %v, want exit %d", err, c.code)
			}
			for _, m := range c.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("%q does not mention %q", err, m)
				}
			}
		})
	}
}
