package engine_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
)

func targetsThrough(t *testing.T, url string, wrap func(http.RoundTripper) http.RoundTripper) *engine.Targets {
	t.Helper()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{Conns: 16})
	if wrap != nil {
		hc.Transport = wrap(hc.Transport)
	}
	cr := targets.Credentials{User: "u", Password: "p"}
	v, c := vossload.New(url, hc, cr), cupi.New(url, hc, cr)
	tg := &engine.Targets{VOSS: v, CUPI: c, VOSSLimiter: engine.NewLimiter("voss", 8), CUPILimiter: engine.NewLimiter("cupi", 5), ID: "test"}
	v.Observe, c.Observe = tg.VOSSLimiter.Observe, tg.CUPILimiter.Observe
	return tg
}

// A VOSS create (with its password) that reached the server just before
// the run was killed has an intent and no outcome. The resumed run finds
// the user there: the password the create carried is the row's, so it is
// not sent again (a server may refuse a recently used password) — and the
// next run of the same input knows it too.
func TestResumeAfterLandedCreateSendsNoSecretAgain(t *testing.T) {
	r := startSim(t)
	path := filepath.Join(t.TempDir(), "run.journal")
	stateDir := t.TempDir()
	rs, err := engine.OpenRunState(stateDir, false)
	if err != nil {
		t.Fatal(err)
	}
	run := func(tg *engine.Targets, complete bool) (*engine.Plan, error) {
		state := rs
		if !complete {
			state = nil // killed: the state folder is not saved
		}
		j, err := engine.OpenJournal(path, "b", false)
		if err != nil {
			t.Fatal(err)
		}
		run := &engine.Run{Targets: tg, Options: engine.Options{RunState: rs}, Journal: j, JournalCreated: !j.Resumed, State: state}
		if err := run.Open(); err != nil {
			t.Fatal(err)
		}
		defer run.Close()
		if err := run.Settle(context.Background()); err != nil {
			return nil, err
		}
		p, err := run.Execute(context.Background(), userRows(1, false), nil)
		if err == nil && complete {
			run.Complete()
		}
		return p, err
	}
	if _, err := run(targetsThrough(t, r.URL, nil), false); err != nil {
		t.Fatal(err)
	}
	// Killed (SIGKILL) after the create reached the server, before its
	// outcome was written: the journal ends at the create's intent.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	cut := false
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if strings.Contains(line, `"type":"outcome"`) && strings.Contains(line, `"kind":"data/User"`) {
			cut = true
			continue
		}
		kept = append(kept, line)
	}
	if !cut {
		t.Fatalf("no outcome line of the VOSS create in the journal:\n%s", b)
	}
	if err := os.WriteFile(path, []byte(strings.Join(kept, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	// The killed process never saved the state folder: the resumed run
	// reads it as it was, with its key and without the create's record.
	if rs, err = engine.OpenRunState(stateDir, false); err != nil {
		t.Fatal(err)
	}
	if n := r.VOSS.Writes.Total(); n != 1 {
		t.Fatalf("VOSS writes after the first run: %d, want the create alone", n)
	}

	p, err := run(targetsThrough(t, r.URL, nil), true)
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	for _, op := range p.Ops {
		if op.Target != "voss" {
			continue
		}
		for _, ch := range op.Changes {
			if ch.Secret {
				t.Errorf("resumed run: %s %s %s sets %s again", op.Action, op.Kind, op.Key, ch.Field)
			}
		}
	}
	if n := r.VOSS.Writes.Total(); n != 1 {
		t.Errorf("VOSS writes after the resumed run: %d, want 1 (the landed create; its password not sent again)", n)
	}

	// The next run of the same input writes nothing to VOSS either.
	next, err := engine.MakePlan(context.Background(), userRows(1, false), targetsThrough(t, r.URL, nil), engine.Options{RunState: rs})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range next.Ops {
		if op.Target == "voss" && op.Action != engine.Noop {
			t.Errorf("next run: %s %s %s %v", op.Action, op.Kind, op.Key, op.Changes)
		}
	}
}
