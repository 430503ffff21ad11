package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/engine/dial"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/internal/statedir"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/simserve"
	"github.com/bulkprov/bulkprov/targets/voss"
	"github.com/bulkprov/bulkprov/transform"
)

const (
	defaultCUPIWorkers = engine.DefaultCUPIWorkers
	defaultVOSSWorkers = engine.DefaultVOSSWorkers
)

// targetFlags are the flags that name and tune the targets.
type targetFlags struct {
	voss, cupi   string
	sim          bool
	caFile       string
	workers      int
	config       string
	forceSecrets bool
	exactRoles   bool
	vossNowait   bool
	timeout      time.Duration
	retries      int
	secrets      string
	oneTime      string
	stateDir     string
	wait         time.Duration
	held         *statedir.Dir // the state folder this run holds
	reuse        []*regexp.Regexp
	vossRate     float64
	cupiShare    float64
	shard        shardFlag
	fs           *flag.FlagSet
}

func (f *targetFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.voss, "voss", "", "VOSS Automate base URL (https://host[:port]); credentials from BULKPROV_VOSS_USER/_PASSWORD")
	fs.StringVar(&f.cupi, "cupi", "", "Unity Connection base URL (https://host[:port]); credentials from BULKPROV_CUPI_USER/_PASSWORD")
	fs.BoolVar(&f.sim, "sim", false, "use in-process simulators of both servers (state lives for this process only)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM file of an extra CA to trust (certificate verification is always on)")
	fs.IntVar(&f.workers, "workers", 0, fmt.Sprintf("cap on concurrent requests per target (default: adaptive, at most %d for CUPI and %d for VOSS)", defaultCUPIWorkers, defaultVOSSWorkers))
	fs.StringVar(&f.config, "config", "", "JSON file with hierarchy, role and credential-policy mappings and the CUPI user template (see README)")
	fs.BoolVar(&f.forceSecrets, "force-secrets", false, "set passwords, PINs and server passwords even when the last value applied is known to be the same")
	fs.BoolVar(&f.exactRoles, "exact-roles", false, "data/User rows: remove CUPI roles that the user's VOSS role does not map to")
	fs.BoolVar(&f.vossNowait, "voss-nowait", false, "send VOSS writes as transactions (nowait=true) polled to their end, instead of synchronously; costs a POST, polls and a GET per write of the 20 req/s budget")
	fs.Bool("voss-sync", true, "deprecated: VOSS writes are synchronous by default (see --voss-nowait)")
	fs.Var(&f.shard, "shard", "K/N: run only the rows of the Unity Connection clusters whose FNV-1a hash of the name mod N is K (rows of no cluster: shard 0), the VOSS part of a row with its cluster; --shard /N takes K from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); default --voss-rate becomes 20/N")
	fs.Float64Var(&f.vossRate, "voss-rate", engine.DefaultVOSSRate, "pace every VOSS request, polls included, at R per second (VOSS's documented per-user limit is 20; 0 = unpaced, for a VOSS whose limit was raised)")
	fs.Float64Var(&f.cupiShare, "cupi-share", 1, "keep at most ⌈5 × F⌉ requests in service on each Unity Connection cluster (0 < F ≤ 1): its 5 request slots also serve its administration pages")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "timeout of one HTTP request")
	fs.StringVar(&f.secrets, "secrets", "", "CSV side-file of write-only values an export cannot carry, keyed by username (header: username,password,pin,account_information.security_questions.[0].answer,...); read once, never copied")
	fs.StringVar(&f.oneTime, "one-time-passwords", "", "give VOSS users created without a password a generated one that must be changed at first login, and write them (only) to this new 0600 CSV file")
	fs.StringVar(&f.stateDir, "state-dir", "", "folder for what outlives a run: the keyed hashes of applied secrets and the checkpoints (default $BULKPROV_STATE_DIR, else $XDG_STATE_HOME/bulkprov, i.e. ~/.local/state/bulkprov)")
	fs.DurationVar(&f.wait, "wait", statedir.DefaultWait, "when another run holds the state folder, wait this long for it (then exit 3 naming it)")
	fs.Func("reuse-pattern", "regular expression that recognises a credential refused as recently used, in the server's wording (repeatable; only shapes the error message)", func(v string) error {
		re, err := regexp.Compile(v)
		if err != nil {
			return err
		}
		f.reuse = append(f.reuse, re)
		return nil
	})
	fs.IntVar(&f.retries, "retries", engine.DefaultRetry.Attempts, "attempts per request on 503, 429, connection errors and timeouts (a timeout at most 3 times; capped exponential back-off with jitter)")
}

// connection is a set of connected targets, and the simulators behind
// them with --sim.
type connection struct {
	targets *engine.Targets
	sim     *simserve.Running
	// The concrete clients behind the engine's interfaces, for the
	// commands that need more than the engine does (export, list,
	// progress hooks); clusters by name.
	voss     *voss.Client
	cupi     *cupi.Client
	clusters map[string]*cupi.Client
}

// cupiOf returns the client of Unity Connection cluster name ("" or
// "default": --cupi), or nil.
func (c *connection) cupiOf(name string) *cupi.Client {
	if name == "" || name == engine.DefaultCluster {
		return c.cupi
	}
	return c.clusters[name]
}

func (c *connection) close() {
	if c.sim != nil {
		_ = c.sim.Close()
	}
}

// connect builds the targets: VOSS, the default Unity Connection
// (--cupi) and the config's cupiClusters, each cluster with its own
// client, credentials and limiter.
func (f *targetFlags) connect(cfg *transform.Config, errOut io.Writer) (*connection, error) {
	c := &connection{}
	if cfg == nil {
		cfg = &transform.Config{}
	}
	if err := f.checkTuning(); err != nil {
		return nil, err
	}
	vossURL, cupiURL := f.voss, f.cupi
	var tc targetCreds
	tc.vc, tc.okV = targets.FromEnv("VOSS")
	tc.cc, tc.okC = targets.FromEnv("CUPI")
	if f.sim {
		if vossURL != "" || cupiURL != "" {
			return nil, fail(exitInvalid, "--sim cannot be combined with --voss or --cupi")
		}
		r, err := startSims(clusterNames(cfg), &tc)
		if err != nil {
			return nil, err
		}
		c.sim = r
		vossURL, cupiURL = r.URL, r.URL
	}
	for name, u := range map[string]*string{"--voss": &vossURL, "--cupi": &cupiURL} {
		if *u == "" {
			continue
		}
		if err := checkTargetURL(name, *u); err != nil {
			return nil, err
		}
		*u = targets.NormalizeURL(*u)
	}
	dc, err := f.dialConfig(cfg, c, vossURL, cupiURL, tc)
	if err != nil {
		return nil, err
	}
	t, clients, err := dial.New(dc)
	if err != nil {
		return nil, fail(exitInvalid, "%v", err)
	}
	c.voss, c.cupi, c.clusters = clients.VOSS, clients.CUPI, clients.Clusters
	c.targets = t
	if t.VOSS == nil && t.CUPI == nil && len(t.Clusters) == 0 {
		return nil, fail(exitInvalid, "no target: give --voss URL and/or --cupi URL, or --sim")
	}
	return c, nil
}

// targetCreds are the VOSS and the shared Unity Connection credentials,
// from the environment (or the simulators'); ok says whether they were
// given.
type targetCreds struct {
	vc, cc   targets.Credentials
	okV, okC bool
}

// checkTuning refuses tuning flags out of their range.
func (f *targetFlags) checkTuning() error {
	switch {
	case f.workers < 0:
		return fail(exitInvalid, "--workers %d: want a number of requests ≥ 1 (0 or unset: adaptive)", f.workers)
	case math.IsNaN(f.vossRate) || f.vossRate < 0:
		return fail(exitInvalid, "--voss-rate %v: want a rate ≥ 0 (0 = unpaced)", f.vossRate)
	case !(f.cupiShare > 0 && f.cupiShare <= 1): // NaN too
		return fail(exitInvalid, "--cupi-share %v: want a share of each Unity Connection cluster's 5 request slots, 0 < F ≤ 1 (0.4 keeps at most 2 requests in service)", f.cupiShare)
	case f.timeout < 0:
		return fail(exitInvalid, "--timeout %v: want a duration > 0", f.timeout)
	case f.retries < 0:
		return fail(exitInvalid, "--retries %d: want a number of attempts ≥ 1", f.retries)
	}
	return nil
}

// startSims starts the in-process simulators, with one Unity Connection
// per cluster name, accepting the environment's VOSS credentials (else
// admin/admin), and gives tc those credentials for both targets.
func startSims(clusters []string, tc *targetCreds) (*simserve.Running, error) {
	user, pass := "admin", "admin"
	if tc.okV {
		user, pass = tc.vc.User, tc.vc.Password
	}
	r, err := simserve.Start(simserve.Options{User: user, Password: pass, Clusters: clusters})
	if err != nil {
		return nil, fail(exitInterrupted, "starting the simulators: %v", err)
	}
	tc.vc, tc.cc = targets.Credentials{User: user, Password: pass}, targets.Credentials{User: user, Password: pass}
	tc.okV, tc.okC = true, true
	return r, nil
}

// dialConfig is what dial.New builds for these flags: VOSS paced at
// --voss-rate (unpaced for the in-process simulator, a share of the
// default per --shard unless given), the default Unity Connection and the
// config's clusters in name order, each with its credentials.
func (f *targetFlags) dialConfig(cfg *transform.Config, c *connection, vossURL, cupiURL string, tc targetCreds) (dial.Config, error) {
	dc := dial.Config{VOSSURL: vossURL, CUPIURL: cupiURL, VOSSCreds: tc.vc, CUPICreds: tc.cc,
		HTTP: targets.HTTPOptions{CAFile: f.caFile, Timeout: f.timeout}, VOSSNowait: f.vossNowait, ClusterPrefixes: cfg.ClusterPrefixes()}
	dc.CUPIWorkers = engine.CUPIMax(f.cupiShare) // each cluster's share of its 5 slots
	if f.workers > 0 {
		dc.VOSSWorkers, dc.CUPIWorkers = f.workers, f.workers
		if f.cupiShare < 1 { // the share bounds --workers too
			dc.CUPIWorkers = min(f.workers, engine.CUPIMax(f.cupiShare))
		}
	}
	if vossURL != "" {
		if !tc.okV {
			return dc, fail(exitInvalid, "--voss needs BULKPROV_VOSS_USER and BULKPROV_VOSS_PASSWORD in the environment")
		}
		if !flagSet(f.fs, "voss-rate") {
			switch {
			case f.sim:
				f.vossRate = 0 // the in-process simulator has no budget to keep
			case f.shard.n > 1:
				f.vossRate = engine.DefaultVOSSRate / float64(f.shard.n) // N shards together keep VOSS's budget
			}
		}
		dc.VOSSRate = f.vossRate
	}
	if cupiURL != "" && !tc.okC {
		return dc, fail(exitInvalid, "--cupi needs BULKPROV_CUPI_USER and BULKPROV_CUPI_PASSWORD in the environment")
	}
	if f.sim {
		dc.ID, dc.VOSSName, dc.CUPIName = "sim", "sim-voss", "sim-cupi"
	}
	for i, name := range clusterNames(cfg) {
		k := dial.Cluster{Name: name, URL: targets.NormalizeURL(cfg.CUPIClusters[name].URL)}
		if f.sim {
			k.URL, k.Label = c.sim.Clusters[i].URL, "sim-cupi-"+name
		}
		cred, ok := clusterCredentials(name, tc.cc, tc.okC)
		if !ok {
			return dc, fail(exitInvalid, "cupiClusters.%s needs %s_USER and _PASSWORD (or BULKPROV_CUPI_USER and _PASSWORD) in the environment", name, transform.ClusterEnv(name))
		}
		k.Creds = cred
		dc.Clusters = append(dc.Clusters, k)
	}
	return dc, nil
}

// clusterCredentials are a cluster's own credentials, else the shared
// CUPI ones.
func clusterCredentials(name string, shared targets.Credentials, haveShared bool) (targets.Credentials, bool) {
	if own, ok := ownClusterCredentials(name); ok {
		return own, true
	}
	return shared, haveShared
}

// ownClusterCredentials are a cluster's own credentials, from
// BULKPROV_CUPI_<NAME>_USER and _PASSWORD, when both are set.
func ownClusterCredentials(name string) (targets.Credentials, bool) {
	u, p := os.Getenv(transform.ClusterEnv(name)+"_USER"), os.Getenv(transform.ClusterEnv(name)+"_PASSWORD")
	return targets.Credentials{User: u, Password: p}, u != "" && p != ""
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	if fs != nil {
		fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	}
	return set
}

// runInputs is everything a plan or apply reads before talking to servers.
type runInputs struct {
	recs     []*loader.Record // only when a report needs them (loadRun)
	rows     []transform.Row
	cfg      *transform.Config
	cfgBytes []byte
	files    []engine.Input
	binding  string // hash of inputs + config + targets
}

// loadRun reads the inputs and maps each record onto its row as it is
// read. The records themselves are kept only with keepRecs (the xlsx
// report writes failed rows back in the input's own layout): a row's
// record and its mapped wants are not held twice.
func (f *targetFlags) loadRun(in *inputFlags, paths []string, io streams, keepRecs bool) (*runInputs, error) {
	if err := f.shard.resolve(); err != nil {
		return nil, err
	}
	cfg, cfgBytes, err := transform.LoadConfig(f.config)
	if err != nil {
		return nil, fail(exitInvalid, "%v", err)
	}
	if in.opts.Hierarchy == "" {
		in.opts.Hierarchy = cfg.DefaultHierarchy
	}
	// A secrets file that cannot be read is reported after the input's
	// own problems; the rows are not mapped without it.
	secrets, serr := transform.LoadSecrets(f.secrets)
	r := &runInputs{cfg: cfg, cfgBytes: cfgBytes}
	opts := transform.Options{ExactRoles: f.exactRoles, Secrets: secrets}
	seen := map[string]loader.Location{}
	var dupes []string
	err = in.mustLoad(paths, io, func(rec *loader.Record) {
		if serr != nil {
			return
		}
		if keepRecs {
			r.recs = append(r.recs, rec)
		}
		k := rec.Model + "|" + strings.ToLower(cfg.Hierarchy(rec.Hierarchy)) + "|" + strings.ToLower(loader.Key(rec))
		if prev, dup := seen[k]; dup && loader.Key(rec) != "" {
			dupes = append(dupes, fmt.Sprintf("%s: %s %s is also at %s; one row per object", rec.Loc, rec.Model, loader.Key(rec), prev))
		}
		seen[k] = rec.Loc
		if !f.shard.keep(transform.RowCluster(rec, cfg)) {
			return // another shard's row
		}
		r.rows = append(r.rows, transform.Map(rec, cfg, opts))
	})
	if err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, fail(exitInvalid, "%v", serr)
	}
	h := sha256.New()
	for _, p := range paths {
		sum, size, err := fileSHA256(p)
		if err != nil {
			return nil, fail(exitInvalid, "%v", err)
		}
		r.files = append(r.files, engine.Input{Path: p, SHA256: sum, Size: size})
		h.Write([]byte(sum))
	}
	h.Write(cfgBytes)
	h.Write([]byte(f.shard.suffix()))
	r.binding = hex.EncodeToString(h.Sum(nil))
	dupes = append(dupes, sharedObjects(r.rows)...)
	if len(dupes) > 0 {
		for _, d := range dupes {
			fmt.Fprintln(io.err, d)
		}
		return nil, fail(exitInvalid, "%d object(s) named by more than one row across the inputs", len(dupes))
	}
	return r, nil
}

// sharedObjects finds rows of different models that write one object
// they share — a data/User row and a cupi/User row for the same alias
// both write that CUPI user and its credentials, and would race.
func sharedObjects(rows []transform.Row) []string {
	first := map[string]*transform.Row{}
	var dupes []string
	for i := range rows {
		row := &rows[i]
		for _, w := range row.Wants {
			if w.Target != "cupi" || w.Alias == "" || w.Err != "" {
				continue
			}
			switch w.Kind {
			case transform.KindCUPIUser, transform.KindPassword, transform.KindPIN:
			default:
				continue
			}
			k := transform.DefaultCluster + "|" + strings.ToLower(w.Alias)
			if w.Cluster != "" {
				k = w.Cluster + "|" + strings.ToLower(w.Alias)
			}
			prev, seen := first[k]
			switch {
			case !seen:
				first[k] = row
			case prev != row && prev.Model != row.Model:
				dupes = append(dupes, fmt.Sprintf("%s: %s writes the Unity Connection user %s, as the %s row at %s does; one row per object", row.Source, row.Model, w.Alias, prev.Model, prev.Source))
				first[k] = row // report each further row once
			}
		}
	}
	return dupes
}

func fileSHA256(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// stateFolder is where what must outlive a run lives (spec/cli.md):
// --state-dir, else $BULKPROV_STATE_DIR, else $XDG_STATE_HOME/bulkprov,
// else ~/.local/state/bulkprov. It does not depend on where the inputs
// are, so tonight's copy of a workbook in a new folder shares it.
func (f *targetFlags) stateFolder() (string, error) {
	if f.stateDir != "" {
		return f.stateDir, nil
	}
	if d := os.Getenv("BULKPROV_STATE_DIR"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "bulkprov"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fail(exitInvalid, "no state folder: set --state-dir or BULKPROV_STATE_DIR (%v)", err)
	}
	return filepath.Join(home, ".local", "state", "bulkprov"), nil
}

// holdState takes the state folder for this run, once: created 0700 (an
// existing one others may write is refused) and locked, waiting up to
// --wait for another run to let go of it. releaseState lets go.
func (f *targetFlags) holdState(ctx context.Context, errOut io.Writer) (string, error) {
	dir, err := f.stateFolder()
	if err != nil || f.held != nil {
		return dir, err
	}
	if f.wait < 0 {
		return "", fail(exitInvalid, "--wait %v: want a duration ≥ 0", f.wait)
	}
	d, err := statedir.Open(ctx, dir, statedir.Options{Wait: f.wait, Command: statedir.CommandLine(),
		Waiting: func(h statedir.Holder, wait time.Duration) {
			fmt.Fprintf(errOut, "bulkprov: state folder %s is held by %s; waiting up to %s for it (--wait)\n", dir, h, wait)
		}})
	var le *statedir.LockedError
	switch {
	case errors.As(err, &le):
		return "", fail(exitInterrupted, "%v; nothing was written; run the same command again once it has finished", err)
	case err != nil:
		return "", fail(exitInvalid, "%v; nothing was written", err)
	}
	f.held = d
	return dir, nil
}

func (f *targetFlags) releaseState() {
	if f.held != nil {
		_ = f.held.Close()
		f.held = nil
	}
}

// runState opens the run's memory of applied secrets: in memory with
// --sim, else in the state folder, which this run then holds.
func (f *targetFlags) runState(ctx context.Context, errOut io.Writer) (*engine.RunState, error) {
	if f.sim {
		return engine.NewMemoryRunState(), nil
	}
	dir, err := f.holdState(ctx, errOut)
	if err != nil {
		return nil, err
	}
	rs, err := engine.OpenRunState(dir, f.forceSecrets)
	if err != nil {
		return nil, fail(exitInvalid, "%v; nothing was written", err)
	}
	for _, p := range rs.Recovered {
		fmt.Fprintf(errOut, "bulkprov: --force-secrets: the damaged run state is kept as %s; every secret is sent again\n", p)
	}
	return rs, nil
}

// resentSecrets counts the secrets a plan sends to objects that already
// exist (not creates): with a run state that holds no record (a new or
// lost state folder), values the server may already hold.
func resentSecrets(p *engine.Plan) int {
	n := 0
	for _, op := range p.Ops {
		for _, c := range op.Changes {
			if c.Secret && c.Old != nil {
				n++
			}
		}
	}
	return n
}

// warnResent says, before they are sent, that secrets of existing objects
// are sent for want of a record (issue 24): a state folder that is new, or
// lost. A new folder is normal; the count lets an admin tell which.
func warnResent(errOut io.Writer, rs *engine.RunState, p *engine.Plan) {
	if rs == nil || !rs.Fresh() || rs.Path() == "" {
		return
	}
	n := resentSecrets(p)
	p.ResentSecrets = n // the reports count them too
	if n == 0 {
		return
	}
	fmt.Fprintf(errOut, "warning: %d secret(s) (passwords, PINs) of objects that already exist will be sent again: the state folder %s holds no record of what was applied before (new, or lost). If it was lost, stop and restore it: a server may refuse a reused password (\"credential was used recently\").\n", n, filepath.Dir(rs.Path()))
}

// engineOptions are the engine options the flags ask for.
func (f *targetFlags) engineOptions(rs *engine.RunState) engine.Options {
	r := engine.DefaultRetry
	r.Attempts = max(1, f.retries)
	o := engine.Options{ForceSecrets: f.forceSecrets, RunState: rs, Retry: r}
	if len(f.reuse) > 0 {
		o.ReusePatterns = append(append([]*regexp.Regexp(nil), engine.DefaultReusePatterns...), f.reuse...)
	}
	if f.oneTime != "" {
		o.OneTime = engine.NewOneTimePasswords()
	}
	return o
}

// planError maps a planning error to an exit code.
func planError(err error) error {
	if errors.Is(err, engine.ErrInterrupted) {
		return fail(exitInterrupted, "interrupted while reading the targets; no plan was made")
	}
	var fe *engine.FatalError
	if errors.As(err, &fe) {
		return fatalExit(fe)
	}
	return fail(exitInvalid, "%v", err)
}

// fatalExit is the exit of a run stopped by its target as a whole: 4 when
// the target refused the credentials or a permission, else 3.
func fatalExit(fe *engine.FatalError) error {
	if targets.AccessDenied(fe.Err) {
		return fail(exitAccess, "access refused: %v; check the credentials and the account's permissions, then run again", fe.Err)
	}
	if errors.Is(fe.Err, syscall.ENOSPC) {
		// The run's own disk, not a target (issue 23).
		return fail(exitInterrupted, "disk full: %v; free space where the state folder, checkpoint and reports live, then run the same command again", fe.Err)
	}
	switch targets.Classify(fe.Err) {
	case targets.Fatal:
		return fail(exitInterrupted, "%v", fe.Err)
	case targets.Transient, targets.Throttled:
		return fail(exitInterrupted, "target unreachable: %v", fe.Err)
	}
	// Not a target's failure: the run's own files (a read-only state
	// folder, a checkpoint that cannot be written).
	return fail(exitInterrupted, "stopped: %v", fe.Err)
}

// clustersExit is the exit of a run in which some Unity Connection
// clusters could not be used (their rows not run, the others done — or,
// for a plan, planned): 4 when any refused access, else 3; the message
// names each cluster.
func clustersExit(down map[string]error, planned bool) error {
	names := make([]string, 0, len(down))
	access := false
	for name, err := range down {
		names = append(names, name)
		access = access || targets.AccessDenied(err)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("Unity Connection %s: %v", n, down[n]))
	}
	msg := strings.Join(parts, "; ")
	others := "the rows of the other targets were done"
	if planned {
		others = "the rows of the other targets were planned"
	}
	if access {
		return fail(exitAccess, "access refused — %s; %s; fix the access, then run again", msg, others)
	}
	return fail(exitInterrupted, "target unreachable — %s; %s", msg, others)
}

// hashString is the hex SHA-256 of s.
func hashString(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// fitTargets drops the Unity Connection part of data/User rows when no
// CUPI target was given (a VOSS-only deployment), saying so once; rows
// that live only on a missing target are an error.
func (r *runInputs) fitTargets(t *engine.Targets, errOut io.Writer) error {
	dropped := 0
	for i := range r.rows {
		row := &r.rows[i]
		keep := row.Wants[:0] // filtered in place: the rows are not copied
		for _, w := range row.Wants {
			noCUPI := t.Cluster(w.Cluster).CUPI == nil && len(t.Clusters) == 0
			switch {
			case w.Target == "cupi" && noCUPI && row.Model == schema.User:
				dropped++
			case w.Target == "cupi" && noCUPI:
				return fail(exitInvalid, "%s: %s rows need a Unity Connection target (--cupi URL)", row.Source, row.Model)
			case w.Target == "voss" && t.VOSS == nil:
				return fail(exitInvalid, "%s: %s rows need a VOSS target (--voss URL)", row.Source, row.Model)
			default:
				keep = append(keep, w)
			}
		}
		row.Wants = keep
	}
	if dropped > 0 {
		fmt.Fprintf(errOut, "bulkprov: no --cupi target: the Unity Connection part of the data/User rows is left out (%d operation(s))\n", dropped)
	}
	return nil
}
