package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/bulkprov/bulkprov/internal/doctor"
	"github.com/bulkprov/bulkprov/internal/transcript"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/conformance"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/simserve"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
	"github.com/bulkprov/bulkprov/transform"
)

func runDoctor(args []string, io streams) error {
	var vossURL, cupiURL, caFile, config, record string
	var sim bool
	var timeout time.Duration
	var vossRate float64
	fs := newFlagSet("doctor", "[TARGETS] [--config FILE]", `
Check, before a change window and without writing anything, that a run
against these servers will work: reachability, TLS, authentication, every
API permission a run needs (list, get and export users; list roles,
templates and credential policies; CUPI user roles and credentials), that
every hierarchy, VOSS role, CUPI role, credential policy and user template
the config names exists, the documented API behaviours a run relies on,
and the latency each target shows with what it means for a run's length.

With --config naming cupiClusters, each Unity Connection cluster gets its
own block of checks, named cupi[NAME].CHECK (e.g. cupi[aaa].auth), with the
credentials a run would use: BULKPROV_CUPI_<NAME>_USER/_PASSWORD, else the
shared BULKPROV_CUPI_USER/_PASSWORD; the clusters are checked side by side.

One line per check on stdout: ok|warn|fail, the check (objects named as
the config names them, spaces kept), the detail, two spaces apart. A
plain-http target is a warning.

--record DIR also writes every request and answer of the run to DIR, a
go-vcr cassette (YAML) per target (voss.yaml, cupi.yaml, cupi-NAME.yaml),
with authorization headers, cookies, tokens, passwords, PINs and the admin
user names redacted: a transcript of what this server really says, to
send with a bug report (it becomes a test fixture of the clients).

Exit 4 when credentials or a permission are refused, else 3 when a target
is unreachable, else 1 when any check warned or failed, else 0, across
every target.

Example:
  bulkprov doctor --voss https://voss.example --cupi https://cuc.example \
      --config tenant.json`, io)
	fs.StringVar(&vossURL, "voss", "", "VOSS Automate base URL; credentials from BULKPROV_VOSS_USER/_PASSWORD")
	fs.StringVar(&cupiURL, "cupi", "", "Unity Connection base URL; credentials from BULKPROV_CUPI_USER/_PASSWORD")
	fs.BoolVar(&sim, "sim", false, "check in-process simulators of both servers")
	fs.StringVar(&caFile, "ca-file", "", "PEM file of an extra CA to trust (certificate verification is always on)")
	fs.StringVar(&config, "config", "", "the run's JSON config: its hierarchies, roles, policies and template are checked")
	fs.DurationVar(&timeout, "timeout", 30*time.Second, "timeout of one HTTP request")
	fs.StringVar(&record, "record", "", "also write every request and answer to cassettes in `DIR`, secrets redacted")
	fs.Float64Var(&vossRate, "voss-rate", 20, "the VOSS requests per second a run paces itself at (the documented per-user limit), for the duration estimate")
	acceptTargetFlags(fs, "state-dir", "wait", "workers")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fail(exitInvalid, "doctor takes no inputs (got %s)", strings.Join(pos, " "))
	}
	cfg, _, err := transform.LoadConfig(config)
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	vc, okV := targets.FromEnv("VOSS")
	cc, okC := targets.FromEnv("CUPI")
	if sim {
		if vossURL != "" || cupiURL != "" {
			return fail(exitInvalid, "--sim cannot be combined with --voss or --cupi")
		}
		user, pass := "admin", "admin"
		if okV {
			user, pass = vc.User, vc.Password
		}
		r, err := simserve.Start(simserve.Options{User: user, Password: pass, Clusters: clusterNames(cfg)})
		if err != nil {
			return fail(exitInterrupted, "starting the simulators: %v", err)
		}
		defer r.Close()
		vossURL, cupiURL = r.URL, r.URL
		for i, name := range clusterNames(cfg) {
			cl := cfg.CUPIClusters[name]
			cl.URL = r.Clusters[i].URL
			cfg.CUPIClusters[name] = cl
		}
		vc, cc = targets.Credentials{User: user, Password: pass}, targets.Credentials{User: user, Password: pass}
		okV, okC = true, true
	}
	if vossURL == "" && cupiURL == "" && len(cfg.CUPIClusters) == 0 {
		fs.Usage()
		return fail(exitInvalid, "no target: give --voss URL and/or --cupi URL, or --sim")
	}
	var rec *transcript.Recorder
	if record != "" {
		if rec, err = transcript.NewRecorder(record); err != nil {
			return fail(exitInvalid, "--record: %v", err)
		}
	}
	// wrap records a target's exchanges under --record.
	wrap := func(name string) func(http.RoundTripper) http.RoundTripper {
		if rec == nil {
			return nil
		}
		return rec.Wrap(name)
	}
	var ts []doctor.Target
	creds := map[string]targets.Credentials{"voss": vc, "cupi": cc}
	for _, t := range []struct {
		name, url string
		ok        bool
	}{{"voss", vossURL, okV}, {"cupi", cupiURL, okC}} {
		if t.url == "" {
			continue
		}
		if err := checkTargetURL("--"+t.name, t.url); err != nil {
			return err
		}
		if !t.ok {
			return fail(exitInvalid, "--%s needs BULKPROV_%s_USER and BULKPROV_%s_PASSWORD in the environment", t.name, strings.ToUpper(t.name), strings.ToUpper(t.name))
		}
		hc, err := targets.NewHTTPClient(targets.HTTPOptions{CAFile: caFile, Conns: 4, Timeout: timeout, Wrap: wrap(t.name)})
		if err != nil {
			return fail(exitInvalid, "%v", err)
		}
		dt := doctor.Target{Name: t.name, URL: t.url, HTTP: hc}
		if t.name == "voss" {
			dt.VOSS, dt.Workers, dt.RateLimit = vossload.New(t.url, hc, vc), defaultVOSSWorkers, vossRate
		} else {
			dt.CUPI, dt.Workers = cupi.New(t.url, hc, cc), 5
		}
		ts = append(ts, dt)
	}
	// One block of checks per Unity Connection cluster of the config, each
	// with its own credentials (else the shared ones), as a run uses them.
	for _, name := range clusterNames(cfg) {
		cred, ok := clusterCredentials(name, cc, okC)
		if !ok {
			return fail(exitInvalid, "cupiClusters.%s needs %s_USER and _PASSWORD (or BULKPROV_CUPI_USER and _PASSWORD) in the environment", name, transform.ClusterEnv(name))
		}
		tn := "cupi[" + name + "]"
		hc, err := targets.NewHTTPClient(targets.HTTPOptions{CAFile: caFile, Conns: 4, Timeout: timeout, Wrap: wrap(tn)})
		if err != nil {
			return fail(exitInvalid, "%v", err)
		}
		env := "BULKPROV_CUPI"
		if _, own := ownClusterCredentials(name); own {
			env = transform.ClusterEnv(name)
		}
		u := cfg.CUPIClusters[name].URL
		creds[tn] = cred
		ts = append(ts, doctor.Target{Name: tn, URL: u, HTTP: hc, CUPI: cupi.New(u, hc, cred), Workers: 5, CredentialsEnv: env})
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	checks := doctor.Run(ctx, doctor.Options{Targets: ts, Config: cfg, Extra: func(ctx context.Context, t doctor.Target) []doctor.Check {
		return conformanceChecks(ctx, t, creds[t.Name], cfg)
	}})
	doctor.Print(io.out, checks)
	if rec != nil {
		for _, c := range creds {
			rec.Credentials(c.User, c.Password)
		}
		files, err := rec.Close()
		for _, f := range files {
			fmt.Fprintln(io.err, "record:", f)
		}
		if err != nil {
			fmt.Fprintln(io.err, "bulkprov doctor: --record:", err)
			if doctor.Exit(checks) == 0 {
				return silent(1)
			}
		}
	}
	if ctx.Err() != nil {
		return fail(exitInterrupted, "interrupted")
	}
	if code := doctor.Exit(checks); code != 0 {
		return silent(code)
	}
	return nil
}

// clusterNames are the config's Unity Connection clusters, sorted.
func clusterNames(cfg *transform.Config) []string {
	names := make([]string, 0, len(cfg.CUPIClusters))
	for name := range cfg.CUPIClusters {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// conformanceChecks runs the read-only part of the conformance suite
// against t, one check line per documented behaviour.
func conformanceChecks(ctx context.Context, t doctor.Target, creds targets.Credentials, cfg *transform.Config) []doctor.Check {
	env := &conformance.Env{URL: t.URL, HTTP: t.HTTP, User: creds.User, Password: creds.Password, Hierarchy: cfg.DefaultHierarchy}
	api := conformance.VOSS
	if t.CUPI != nil {
		api = conformance.CUPI
	}
	var out []doctor.Check
	for _, res := range conformance.Run(ctx, env, api, true) {
		c := doctor.Check{Status: doctor.OK, Name: fmt.Sprintf("%s.api[%s]", t.Name, res.Name), Detail: res.Doc}
		switch {
		case res.Skipped != "":
			// Nothing here to check it on (a doctor check of its own warns
			// where that matters, e.g. no user to read credentials of).
			c.Detail = res.Doc + ": not checked here: " + res.Skipped
		case res.Err != nil:
			c.Status, c.Detail = doctor.Warn, res.Doc+": "+res.Err.Error()+" (bulkprov copes, but this server differs from the documentation)"
		}
		out = append(out, c)
	}
	return out
}
