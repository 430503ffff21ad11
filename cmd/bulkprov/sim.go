package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/engine/dial"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/simkit"
	"github.com/bulkprov/bulkprov/targets/simserve"
	"github.com/bulkprov/bulkprov/transform"
)

// simFlags are bulkprov sim's flags: the simulators' options and what
// the command turns into them.
type simFlags struct {
	o                                simserve.Options
	seed, failKeys, forbid, clusters string
	unkept                           unkeptFlags
}

func runSim(args []string, io streams) error {
	var f simFlags
	fs := newFlagSet("sim", "[flags]", `
Serve the VOSS Automate (/api) and Unity Connection CUPI (/vmrest)
simulators over HTTP on one loopback address until interrupted. The first
two stdout lines are voss=URL and cupi=URL. Basic authentication takes
the credentials the clients read: BULKPROV_VOSS_USER/_PASSWORD for VOSS,
BULKPROV_CUPI_USER/_PASSWORD for Unity Connection (admin/admin when unset),
BULKPROV_CUPI_<NAME>_USER/_PASSWORD for a --cupi-clusters NAME where set.

The simulators behave as the servers document: CUPI serves --cupi-slots
requests at once, queues the rest and answers 503 after
--cupi-queue-timeout; VOSS runs writes with nowait=true as transactions.
Fault knobs inject 503s, 429s with Retry-After, connections dropped after
a write committed, and latency spikes. GET /sim/voss/writes and
/sim/cupi/writes return the writes counted per business key.

Misbehaviour knobs make a server that answers a write with success but
does not keep what it was sent, as a real server met for the first time
may: --voss-drop-field and --cupi-drop-field name fields it does not keep
(a read shows the value from before the write, or none), --voss-lower-field
and --cupi-lower-field fields it keeps lower-cased. VOSS fields are
MODEL:FIELD with a dot path into objects (data/User:email,
relation/HcsAdminUserREL:AdminUser.email); Unity Connection fields are
OBJECT:FIELD with OBJECT user, credential (password and PIN settings) or
authzserver (user:EmailAddress). Secrets, read-only fields and, for a drop,
fields a create requires are refused (exit 2).

Examples:
  bulkprov sim --listen 127.0.0.1:0 --state sim.json --seed samples/tenant.xlsx
  bulkprov sim --voss-drop-field data/User:email --cupi-lower-field user:EmailAddress`, io)
	f.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("sim", "sim takes no arguments (got %s)", strings.Join(pos, " "))
	}
	if err := f.check(); err != nil {
		return err
	}
	creds, cupiCreds := f.credentials(io)
	return f.serve(creds, cupiCreds, io)
}

func (f *simFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.o.Addr, "listen", "127.0.0.1:8080", "address to listen on (127.0.0.1:0 picks a free port)")
	fs.StringVar(&f.o.StateFile, "state", "", "keep the simulators' state in FILE across restarts")
	fs.StringVar(&f.o.TLSCAOut, "tls-ca-out", "", "serve HTTPS with a fresh self-signed certificate and write it to FILE (give it to clients with --ca-file)")
	fs.StringVar(&f.seed, "seed", "", "preload instances by applying a workbook, CSV or JSON export")
	fs.IntVar(&f.o.CUPI.Slots, "cupi-slots", 5, "CUPI requests processed at once")
	fs.DurationVar(&f.o.CUPI.ServiceTime, "cupi-service-time", 0, "time each CUPI request takes")
	fs.DurationVar(&f.o.CUPI.QueueTimeout, "cupi-queue-timeout", 20*time.Second, "longest a CUPI request waits for a slot before 503")
	fs.DurationVar(&f.o.VOSS.ServiceTime, "voss-service-time", 0, "time each VOSS request takes")
	fs.IntVar(&f.o.VOSS.TxWorkers, "voss-tx-workers", 30, "VOSS transaction queue workers")
	fs.Float64Var(&f.o.VOSS.RateLimit, "voss-rate-limit", 0, "VOSS requests per second per user before the throttle answers, polls included (0: off)")
	fs.IntVar(&f.o.VOSS.ThrottleStatus, "voss-throttle-status", 429, "status of a throttled VOSS request: 429 or 503")
	fs.DurationVar(&f.o.VOSS.ThrottleRetryAfter, "voss-throttle-retry-after", time.Second, "Retry-After sent with a VOSS throttle answer (0: none)")
	fs.IntVar(&f.o.CUPI.DeleteStatus, "cupi-delete-status", 204, "status of a CUPI DELETE: 204, or 200 as older servers answer")
	fs.StringVar(&f.o.CUPI.ReuseMessage, "cupi-reuse-message", "", "wording of the CUPI 400 that refuses a password or PIN from the policy's history (default: a locale-like sentence)")
	fs.Float64Var(&f.o.Faults.Rate503, "fail-503", 0, "share of requests answered 503 (0..1)")
	fs.Float64Var(&f.o.Faults.Rate429, "fail-429", 0, "share of requests answered 429 with Retry-After (0..1)")
	fs.DurationVar(&f.o.Faults.RetryAfter, "retry-after", time.Second, "Retry-After sent with injected 429s")
	fs.Float64Var(&f.o.Faults.DropAfterCommit, "drop-after-commit", 0, "share of writes applied and then left unanswered, the connection dropped (0..1)")
	fs.Float64Var(&f.o.Faults.FailAfterCommit, "fail-after-commit", 0, "share of writes applied and then answered with --fail-after-commit-status, as a proxy would (0..1)")
	fs.IntVar(&f.o.Faults.FailAfterCommitStatus, "fail-after-commit-status", 502, "status of a write answered after commit: 500, 502 or 504")
	fs.StringVar(&f.forbid, "forbid", "", "comma-separated routes refused with 403: a path prefix or METHOD and path prefix (e.g. /vmrest/credentialpolicies,POST /api/data/User)")
	fs.Float64Var(&f.o.Faults.SpikeRate, "spike-rate", 0, "share of requests slowed by --spike-factor (0..1)")
	fs.Float64Var(&f.o.Faults.SpikeFactor, "spike-factor", 10, "latency multiplier of a spike")
	fs.Uint64Var(&f.o.Faults.Seed, "fault-seed", 1, "seed of the fault injection")
	fs.StringVar(&f.clusters, "cupi-clusters", "", "serve one more independent Unity Connection per NAME (comma-separated), each on its own port with its own users and 5 slots; printed as cupi.NAME=URL")
	fs.StringVar(&f.failKeys, "fail-keys", "", "comma-separated business keys whose writes get HTTP 500 (KEY or KEY=STATUS)")
	f.unkept.register(fs)
}

// check refuses flags out of their range and turns the lists of keys,
// routes and clusters into the simulators' options.
func (f *simFlags) check() error {
	o := &f.o
	for _, r := range []struct {
		flag string
		v    float64
	}{{"--fail-503", o.Faults.Rate503}, {"--fail-429", o.Faults.Rate429}, {"--drop-after-commit", o.Faults.DropAfterCommit},
		{"--fail-after-commit", o.Faults.FailAfterCommit}, {"--spike-rate", o.Faults.SpikeRate}} {
		if !(r.v >= 0 && r.v <= 1) { // NaN too
			return usageError("sim", "%s %v: want a share from 0 to 1", r.flag, r.v)
		}
	}
	// The state file is written on every change and at the end: a path
	// that cannot be written would lose it silently.
	if err := checkOutputs(outputPath{flag: "--state", path: o.StateFile}); err != nil {
		return err
	}
	o.VOSS.DropFields, o.VOSS.LowerFields = f.unkept.vossDrop, f.unkept.vossLower
	o.CUPI.DropFields, o.CUPI.LowerFields = f.unkept.cupiDrop, f.unkept.cupiLower
	if err := o.VOSS.Validate(); err != nil {
		return usageError("sim", "--voss-%v", err)
	}
	if err := o.CUPI.Validate(); err != nil {
		return usageError("sim", "--cupi-%v", err)
	}
	if o.CUPI.Slots < 1 {
		return usageError("sim", "--cupi-slots %d: want at least 1", o.CUPI.Slots)
	}
	if f.failKeys != "" {
		o.Faults.FailKeys = map[string]int{}
		for _, k := range strings.Split(f.failKeys, ",") {
			key, st, _ := strings.Cut(strings.TrimSpace(k), "=")
			code := 500
			fmt.Sscan(st, &code)
			o.Faults.FailKeys[key] = code
		}
	}
	if f.forbid != "" {
		o.Faults.Forbid = strings.Split(f.forbid, ",")
	}
	if err := f.parseClusters(); err != nil {
		return err
	}
	if st := o.VOSS.ThrottleStatus; st != 429 && st != 503 {
		return fail(exitInvalid, "--voss-throttle-status must be 429 or 503")
	}
	if st := o.CUPI.DeleteStatus; st != 200 && st != 204 {
		return fail(exitInvalid, "--cupi-delete-status must be 200 or 204")
	}
	if st := o.Faults.FailAfterCommitStatus; st < 500 || st > 599 {
		return fail(exitInvalid, "--fail-after-commit-status must be a 5xx status")
	}
	return nil
}

// parseClusters reads --cupi-clusters: names, none "default", none twice.
func (f *simFlags) parseClusters() error {
	for _, name := range strings.Split(f.clusters, ",") {
		if name = strings.TrimSpace(name); name != "" {
			if strings.EqualFold(name, "default") {
				return fail(exitInvalid, "--cupi-clusters: the name default is reserved for the main Unity Connection")
			}
			for _, prev := range f.o.Clusters {
				if strings.EqualFold(prev, name) {
					return fail(exitInvalid, "--cupi-clusters: %s is named twice", name)
				}
			}
			f.o.Clusters = append(f.o.Clusters, name)
		}
	}
	return nil
}

// credentials gives each simulator the credentials its clients read
// (cli.md): VOSS's, the shared Unity Connection ones (admin/admin when
// unset, said on stderr), and a cluster's own where set.
func (f *simFlags) credentials(io streams) (creds, cupiCreds targets.Credentials) {
	o := &f.o
	creds, ok := targets.FromEnv("VOSS")
	if !ok {
		creds = targets.Credentials{User: "admin", Password: "admin"}
		fmt.Fprintln(io.err, "bulkprov sim: BULKPROV_VOSS_USER/_PASSWORD unset; accepting admin/admin")
	}
	o.User, o.Password = creds.User, creds.Password
	cupiCreds, ok = targets.FromEnv("CUPI")
	if !ok {
		cupiCreds = targets.Credentials{User: "admin", Password: "admin"}
		fmt.Fprintln(io.err, "bulkprov sim: BULKPROV_CUPI_USER/_PASSWORD unset; accepting admin/admin")
	}
	o.CUPIUser, o.CUPIPassword = cupiCreds.User, cupiCreds.Password
	for _, name := range o.Clusters {
		if c, ok := ownClusterCredentials(name); ok {
			if o.ClusterAuth == nil {
				o.ClusterAuth = map[string][2]string{}
			}
			o.ClusterAuth[name] = [2]string{c.User, c.Password}
		}
	}
	return creds, cupiCreds
}

// serve starts the simulators, seeds them (without faults), prints their
// URLs and serves until interrupted.
func (f *simFlags) serve(creds, cupiCreds targets.Credentials, io streams) error {
	o := f.o
	faults := o.Faults
	o.Faults = simkit.Faults{} // seeding runs without faults
	r, err := simserve.Start(o)
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	defer func() {
		if err := r.Close(); err != nil {
			fmt.Fprintln(io.err, "bulkprov sim: saving --state:", err)
		}
	}()
	if f.seed != "" {
		if err := seedSim(r, f.seed, creds, cupiCreds, o.TLSCAOut, io); err != nil {
			return err
		}
	}
	r.VOSS.SetFaults(faults)
	r.CUPI.SetFaults(faults)
	fmt.Fprintf(io.out, "voss=%s\ncupi=%s\n", r.URL, r.URL)
	for _, c := range r.Clusters {
		c.CUPI.SetFaults(faults)
		fmt.Fprintf(io.out, "cupi.%s=%s\n", c.Name, c.URL)
	}
	if file, ok := io.out.(*os.File); ok {
		_ = file.Sync()
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	<-ctx.Done()
	fmt.Fprintln(io.err, "bulkprov sim: stopping")
	return nil
}

// seedSim applies a file to the running simulators through the engine, so
// the seeded state is exactly what an apply would leave.
func seedSim(r *simserve.Running, path string, creds, cupiCreds targets.Credentials, caFile string, io streams) error {
	var recs []*loader.Record
	var problems []loader.Problem
	err := loader.Read(path, loader.Options{}, func(rec *loader.Record) error {
		recs = append(recs, rec)
		return nil
	}, func(p loader.Problem) { problems = append(problems, p) })
	if err != nil {
		return fail(exitInvalid, "--seed: %v", err)
	}
	checker := loader.NewChecker()
	cfg := &transform.Config{}
	var rows []transform.Row
	for _, rec := range recs {
		problems = append(problems, checker.Check(rec)...)
		if rec.Hierarchy != "" {
			r.VOSS.AddHierarchy(rec.Hierarchy)
		}
		for _, role := range []string{str(rec.Fields["role"]), str(sub(rec.Fields, "AdminUser")["role"])} {
			if role != "" && schema.Get(rec.Model).Target == "voss" {
				r.VOSS.AddRole(role)
			}
		}
		rows = append(rows, transform.Map(rec, cfg, transform.Options{}))
	}
	for _, p := range problems {
		fmt.Fprintln(io.err, p)
	}
	if len(problems) > 0 {
		return fail(exitInvalid, "--seed %s: %d problem(s)", path, len(problems))
	}
	t, _, err := dial.New(dial.Config{VOSSURL: r.URL, CUPIURL: r.URL, VOSSCreds: creds, CUPICreds: cupiCreds,
		HTTP: targets.HTTPOptions{Conns: 16, CAFile: caFile}, VOSSWorkers: 8, CUPIWorkers: 5, ID: "seed"})
	if err != nil {
		return fail(exitInvalid, "--seed: %v", err)
	}
	ctx := context.Background()
	p, err := engine.MakePlan(ctx, rows, t, engine.Options{})
	if err != nil {
		return fail(exitInvalid, "--seed: %v", err)
	}
	if err := engine.Apply(ctx, p, t, engine.Options{}, engine.ApplyOptions{Workers: 16}); err != nil {
		return fail(exitInvalid, "--seed: %v", err)
	}
	s := p.Summary()
	fmt.Fprintf(io.err, "bulkprov sim: seeded from %s: %d done, %d failed\n", path, s.Done, s.Failed)
	for _, op := range p.Ops {
		if op.Status == engine.Failed {
			fmt.Fprintf(io.err, "  %s: %s %s: %s\n", op.Src(), op.Kind, op.Key, op.Error)
		}
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func sub(m map[string]any, k string) map[string]any {
	s, _ := m[k].(map[string]any)
	return s
}
