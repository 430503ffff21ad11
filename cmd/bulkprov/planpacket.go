package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine"
	json "github.com/bulkprov/bulkprov/internal/jsonx"
	"github.com/bulkprov/bulkprov/internal/report"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/transform"
)

// planPacket is what a saved plan carries beside the engine's plan so that
// it is self-contained: apply --plan needs the plan, the targets and the
// credentials, not the input files. The inputs' SHA-256 stay in the plan
// (its "inputs"); their records are carried as read, without their
// write-only values (a plan never holds a password or PIN), and the config
// as its bytes.
type planPacket struct {
	ConfigFile *report.RunFile  `json:"config_file,omitempty"`
	Config     string           `json:"config_text,omitempty"` // the config file's bytes, exactly
	Records    []*loader.Record `json:"records,omitempty"`
	// SecretsSet counts the write-only values the plan sets: without the
	// input files they must come from --secrets.
	SecretsSet int `json:"secrets_set,omitempty"`

	// hasRecords says that the plan file carries records (loadPlan does
	// not keep them: readPlanRecords reads them when they are used).
	hasRecords bool
}

// readPlanRecords reads the records a saved plan carries.
func readPlanRecords(path string) ([]*loader.Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pk planPacket
	if err := json.Unmarshal(b, &pk); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	pk.restoreNumbers()
	return pk.Records, nil
}

// newPlanPacket makes the packet of a plan made from recs (nil for a
// back-out plan, which its back-out file makes self-contained).
func newPlanPacket(recs []*loader.Record, cfg *report.RunFile, cfgBytes []byte, p *engine.Plan) *planPacket {
	pk := &planPacket{ConfigFile: cfg}
	pk.Config = string(cfgBytes)
	for _, r := range recs {
		c := *r
		c.Header, c.Cells = nil, nil // the row as read holds its secrets too
		if m := schema.Get(r.Model); m != nil && r.Fields != nil {
			c.Fields = engine.CopyTree(r.Fields)
			dropSecrets(m.Root, c.Fields)
		}
		pk.Records = append(pk.Records, &c)
	}
	for _, op := range p.Ops {
		for _, ch := range op.Changes {
			if ch.Secret {
				pk.SecretsSet++
			}
		}
	}
	return pk
}

// dropSecrets removes the schema's write-only leaves from a field tree.
func dropSecrets(f *schema.Field, tree map[string]any) {
	for k, v := range tree {
		c := f.Child(k)
		if c == nil {
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			dropSecrets(c, t)
		case []any:
			for _, el := range t {
				if m, ok := el.(map[string]any); ok {
					dropSecrets(c, m)
				}
			}
		default:
			if c.Secret {
				delete(tree, k)
			}
		}
	}
}

// restoreNumbers gives the records' numbers back the type the loader
// reads them as (int64); JSON decoding made them float64.
func (pk *planPacket) restoreNumbers() {
	var fix func(v any) any
	fix = func(v any) any {
		switch t := v.(type) {
		case float64:
			if t == float64(int64(t)) {
				return int64(t)
			}
		case json.Number:
			if i, err := t.Int64(); err == nil {
				return i
			}
		case map[string]any:
			for k, c := range t {
				t[k] = fix(c)
			}
		case []any:
			for i, c := range t {
				t[i] = fix(c)
			}
		}
		return v
	}
	for _, r := range pk.Records {
		if r.Fields != nil {
			fix(r.Fields)
		}
	}
}

// inputsGone reports whether an input of the saved plan is not at its
// path: the plan's own records stand in for them. (An input that is there
// but changed is refused, as before: make a new plan.)
func inputsGone(saved *engine.Plan) bool {
	for _, in := range saved.Inputs {
		if _, err := os.Stat(in.Path); err != nil {
			return true
		}
	}
	return false
}

// loadRunFromPlan makes the run's inputs from a saved plan's records and
// config, as loadRun makes them from the files: the same rows, the same
// binding (so the same checkpoint). Write-only values come from --secrets;
// a plan that sets some and no --secrets is refused (exit 2).
func (f *targetFlags) loadRunFromPlan(saved *engine.Plan, pk *planPacket, planPath string, errOut io.Writer) (*runInputs, error) {
	if err := f.shard.resolve(); err != nil {
		return nil, err
	}
	var names []string
	for _, in := range saved.Inputs {
		names = append(names, in.Path)
	}
	cfgBytes := []byte(pk.Config)
	if f.config != "" {
		if !sameJSON(f.config, cfgBytes) {
			return nil, fail(exitInvalid, "--config %s is not the config the plan %s was made with; leave --config out (the plan carries its own)", f.config, planPath)
		}
		b, err := os.ReadFile(f.config)
		if err != nil {
			return nil, fail(exitInvalid, "%v", err)
		}
		cfgBytes = b
	}
	cfg := &transform.Config{}
	if len(cfgBytes) > 0 {
		var err error
		if cfg, _, err = transform.ParseConfig(planPath+" (the config of the plan)", cfgBytes); err != nil {
			return nil, fail(exitInvalid, "--plan: %v", err)
		}
	}
	if pk.SecretsSet > 0 && f.secrets == "" {
		return nil, fail(exitInvalid, "--plan %s sets %d write-only value(s) (passwords, PINs, answers), which a saved plan never carries, and its input files are not at hand (%s): give them at their paths, or their values with --secrets FILE; nothing was written",
			planPath, pk.SecretsSet, strings.Join(names, ", "))
	}
	secrets, err := transform.LoadSecrets(f.secrets)
	if err != nil {
		return nil, fail(exitInvalid, "%v", err)
	}
	recs, err := readPlanRecords(planPath)
	if err != nil {
		return nil, fail(exitInvalid, "--plan: %v", err)
	}
	fmt.Fprintf(errOut, "inputs from the plan %s: %s (the files are not at their paths; the plan carries their rows)\n", planPath, strings.Join(names, ", "))
	r := &runInputs{cfg: cfg, cfgBytes: cfgBytes, files: saved.Inputs, recs: recs}
	opts := transform.Options{ExactRoles: f.exactRoles, Secrets: secrets}
	for _, rec := range recs {
		if !f.shard.keep(transform.RowCluster(rec, cfg)) {
			continue
		}
		r.rows = append(r.rows, transform.Map(rec, cfg, opts))
	}
	h := sha256.New()
	for _, in := range saved.Inputs {
		h.Write([]byte(in.SHA256))
	}
	h.Write(cfgBytes)
	h.Write([]byte(f.shard.suffix()))
	r.binding = hex.EncodeToString(h.Sum(nil))
	return r, nil
}
