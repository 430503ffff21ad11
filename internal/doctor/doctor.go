// Package doctor is bulkprov's read-only preflight (spec/cli.md, `bulkprov
// doctor`): before a change window it checks, per target, reachability,
// TLS, authentication, every API permission a run needs, that everything
// the config names exists, and the latency a run will see. It only reads:
// GETs, and the VOSS bulk export (a POST that changes nothing).
package doctor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
	"github.com/bulkprov/bulkprov/transform"
)

// Status is the outcome of one check.
type Status int

// Check outcomes, in increasing severity.
const (
	OK Status = iota
	Warn
	Fail
)

func (s Status) String() string { return [...]string{"ok", "warn", "fail"}[s] }

// Cause says why a check failed, for the exit code.
type Cause int

// Causes of a failed check.
const (
	// Other is a failed or warned check with no cause of its own: a missing
	// role, a plain-http target (exit 1).
	Other Cause = iota
	// Unreachable is a target that could not be reached or whose
	// certificate is not trusted (exit 3).
	Unreachable
	// Access is credentials or a permission refused (exit 4).
	Access
)

// Check is one line of the report.
type Check struct {
	Status Status
	Name   string // the target and the check, e.g. voss.role[X], cupi.role[Help Desk Administrator]
	Detail string
	Cause  Cause
}

// String is the report line: STATUS, CHECK and the detail, two spaces
// apart (spec/cli.md, doctor). CHECK names the object as the admin wrote
// it, never escaped (cupi.role[Help Desk Administrator]); only a run of
// whitespace in it becomes one space, so that CHECK holds no two spaces in
// a row and the line splits on two spaces into its three fields.
func (c Check) String() string {
	return fmt.Sprintf("%s  %s  %s", c.Status, oneLine(c.Name), oneLine(c.Detail))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Exit returns the exit code of a report by the spec's precedence: 4 for
// credentials or a permission refused, else 3 for a target unreachable,
// else 1 for any warning or failure, else 0.
func Exit(checks []Check) int {
	code := 0
	for _, c := range checks {
		switch {
		case c.Status == OK:
		case c.Status == Fail && c.Cause == Access:
			return 4
		case c.Status == Fail && c.Cause == Unreachable:
			code = 3
		case code == 0:
			code = 1
		}
	}
	return code
}

// Target is one server to check.
type Target struct {
	Name string // check prefix: "voss", "cupi" or "cupi[NAME]"
	URL  string
	// CredentialsEnv names the environment variables its credentials came
	// from, for the detail of a refusal (default BULKPROV_VOSS or
	// BULKPROV_CUPI; a cluster's own BULKPROV_CUPI_<NAME>).
	CredentialsEnv string
	HTTP           *http.Client // the client the run would use (TLS, --ca-file)
	VOSS           *voss.Client // exactly one of VOSS and CUPI is set
	CUPI           *cupi.Client
	// Workers is the concurrency a run would use against it; RateLimit,
	// for VOSS, the requests per second it paces itself at (0: unpaced).
	Workers   int
	RateLimit float64
}

// Options configure a preflight.
type Options struct {
	Targets []Target
	Config  *transform.Config
	// Samples is how many reads the latency is measured over (default 5).
	Samples int
	// Extra, when set, runs more checks against a target that passed
	// authentication (the read-only conformance checks) and returns them.
	// It is called for several targets at once.
	Extra func(ctx context.Context, t Target) []Check
	// Parallel is how many targets are checked at once (default 8): a
	// provider's many Unity Connection clusters are checked side by side,
	// each target's checks in order, the report in the order of Targets.
	Parallel int
}

// Run checks every target and returns the report, one Check per line:
// each target's block in the order of o.Targets.
func Run(ctx context.Context, o Options) []Check {
	if o.Config == nil {
		o.Config = &transform.Config{}
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	blocks := make([][]Check, len(o.Targets))
	sem := make(chan struct{}, o.Parallel)
	var wg sync.WaitGroup
	for i, t := range o.Targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			blocks[i] = checkTarget(ctx, t, o)
		}()
	}
	wg.Wait()
	var out []Check
	for _, b := range blocks {
		out = append(out, b...)
	}
	return out
}

// checkTarget runs one target's block of checks.
func checkTarget(ctx context.Context, t Target, o Options) []Check {
	r := &run{ctx: ctx, t: t, cfg: o.Config}
	if !r.connect() {
		return r.checks
	}
	if t.VOSS != nil {
		r.voss()
	} else {
		r.cupi()
	}
	if r.authed {
		r.latency(o.Samples)
		if o.Extra != nil {
			r.checks = append(r.checks, o.Extra(ctx, t)...)
		}
	}
	return r.checks
}

// run is the state of one target's checks.
type run struct {
	ctx    context.Context
	t      Target
	cfg    *transform.Config
	checks []Check
	authed bool
	probe  func(context.Context) error // a cheap authenticated read
}

func (r *run) add(s Status, check, detail string, cause Cause) {
	r.checks = append(r.checks, Check{Status: s, Name: r.t.Name + "." + check, Detail: detail, Cause: cause})
}

// connect checks reachability and TLS with one unauthenticated GET.
func (r *run) connect() bool {
	path := "/api/"
	if r.t.CUPI != nil {
		path = "/vmrest/"
	}
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, strings.TrimRight(r.t.URL, "/")+path, nil)
	if err != nil {
		r.add(Fail, "reach", err.Error(), Unreachable)
		return false
	}
	req.Header.Set("User-Agent", targets.UserAgent())
	start := time.Now()
	resp, err := r.t.HTTP.Do(req)
	if err != nil {
		var ce *tls.CertificateVerificationError
		if errors.As(err, &ce) {
			r.add(OK, "reach", "answers at "+r.t.URL, Other)
			r.add(Fail, "tls", "certificate not trusted: "+ce.Err.Error()+" (give its CA with --ca-file; verification is never turned off)", Unreachable)
			return false
		}
		r.add(Fail, "reach", fmt.Sprintf("%s: %v", r.t.URL, unwrapURL(err)), Unreachable)
		return false
	}
	targets.Drain(resp.Body)
	r.add(OK, "reach", fmt.Sprintf("answers at %s (HTTP %d in %s)", r.t.URL, resp.StatusCode, ms(time.Since(start))), Other)
	if resp.TLS == nil {
		r.add(Warn, "tls", "plain http: credentials and passwords would cross the network in clear; use https", Other)
		return true
	}
	st := resp.TLS
	detail := fmt.Sprintf("%s, certificate verified", tls.VersionName(st.Version))
	if len(st.PeerCertificates) > 0 {
		exp := st.PeerCertificates[0].NotAfter
		detail += ", expires " + exp.UTC().Format("2006-01-02")
		if time.Until(exp) < 30*24*time.Hour {
			r.add(Warn, "tls", detail+": less than 30 days left", Other)
			return true
		}
	}
	r.add(OK, "tls", detail, Other)
	return true
}

func unwrapURL(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

func ms(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }

// classify turns a failed read into a check: 401/403 are Access, a
// transport error Unreachable, anything else a plain failure.
func (r *run) fail(check, what string, err error) {
	var ae *targets.APIError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		r.add(Fail, check, what+": credentials refused (HTTP 401); check "+r.credentialsEnv()+"_USER/_PASSWORD", Access)
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		r.add(Fail, check, what+": permission refused (HTTP 403); the run needs it — ask for it to be granted to this account", Access)
	case errors.As(err, &ae):
		r.add(Fail, check, fmt.Sprintf("%s: HTTP %d %s", what, ae.Status, ae.Message), Other)
	case targets.Classify(err) == targets.Transient || targets.Classify(err) == targets.Throttled,
		errors.As(err, new(*targets.BadAnswerError)), errors.As(err, new(*targets.RedirectError)):
		// Not the API's answer (a proxy's page) or sent elsewhere: as a
		// run, the target is unreachable (issue 23: one exit per class).
		r.add(Fail, check, what+": "+err.Error(), Unreachable)
	default:
		r.add(Fail, check, what+": "+err.Error(), Other)
	}
}

// credentialsEnv is the environment prefix of the target's credentials.
func (r *run) credentialsEnv() string {
	switch {
	case r.t.CredentialsEnv != "":
		return r.t.CredentialsEnv
	case r.t.VOSS != nil:
		return "BULKPROV_VOSS"
	}
	return "BULKPROV_CUPI"
}

func isAuth(err error) bool {
	var ae *targets.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusUnauthorized
}

// auth judges the first authenticated read: a 401 or no answer at all
// stops the target's checks; any other answer proves the credentials (a
// 403 is then the permission's own check).
func (r *run) auth(err error, detail string) bool {
	var ae *targets.APIError
	if err != nil && (isAuth(err) || !errors.As(err, &ae)) {
		r.fail("auth", "the first authenticated read", err)
		return false
	}
	r.authed = true
	r.add(OK, "auth", detail, Other)
	return true
}

func (r *run) voss() {
	c := r.t.VOSS
	h := r.cfg.DefaultHierarchy
	if h == "" {
		h = "sys"
	}
	nodes, err := c.HierarchyNodes(r.ctx)
	if !r.auth(err, "credentials accepted") {
		return
	}
	r.probe = func(ctx context.Context) error { _, _, err := c.Page(ctx, "data/User", h, 0, 1); return err }
	if err != nil {
		r.fail("list[data/HierarchyNode]", "listing hierarchy nodes", err)
	} else {
		r.add(OK, "list[data/HierarchyNode]", fmt.Sprintf("%d hierarchy nodes", len(nodes)), Other)
	}
	roles, err := c.Roles(r.ctx, h)
	if err != nil {
		r.fail("list[data/Role]", "listing roles at "+h, err)
	} else {
		r.add(OK, "list[data/Role]", fmt.Sprintf("%d roles visible at %s", len(roles), h), Other)
	}
	for _, model := range []string{"data/User", "relation/HcsAdminUserREL"} {
		total, page, err := c.Page(r.ctx, model, h, 0, 1)
		if err != nil {
			r.fail("list["+model+"]", "listing "+model+" at "+h, err)
			continue
		}
		r.add(OK, "list["+model+"]", fmt.Sprintf("%d instances at %s and below", total, h), Other)
		if len(page) == 0 {
			r.add(Warn, "get["+model+"]", "no instance to try reading one with; a get permission is not proven", Other)
			r.add(Warn, "export["+model+"]", "no instance to try exporting; the export permission is not proven", Other)
			continue
		}
		pkid := page[0].Pkid
		if _, err := c.Get(r.ctx, model, pkid); err != nil {
			r.fail("get["+model+"]", "reading one instance", err)
		} else {
			r.add(OK, "get["+model+"]", "read one instance by pkid", Other)
		}
		r.vossFind(model, h, page[0])
		n := 0
		err = c.Export(r.ctx, model, h, []string{pkid}, func(voss.Instance) error { n++; return nil })
		switch {
		case err != nil:
			r.fail("export["+model+"]", "exporting one instance", err)
		case n != 1:
			r.add(Fail, "export["+model+"]", fmt.Sprintf("the export of one instance returned %d", n), Other)
		default:
			r.add(OK, "export["+model+"]", "bulk export of one instance (JSON zip)", Other)
		}
	}
	if nodes != nil {
		for _, hh := range configHierarchies(r.cfg) {
			if nodes[hh] {
				r.add(OK, "hierarchy["+hh+"]", "exists", Other)
			} else {
				r.add(Fail, "hierarchy["+hh+"]", "named by the config but not found on VOSS", Other)
			}
		}
	}
	if roles != nil {
		have := map[string]bool{}
		for _, n := range roles {
			have[n] = true
		}
		for _, name := range configVOSSRoles(r.cfg) {
			if have[name] {
				r.add(OK, "role["+name+"]", "exists at "+h, Other)
			} else {
				r.add(Fail, "role["+name+"]", "named by the config but no data/Role of that name is visible at "+h, Other)
			}
		}
	}
}

// vossFind looks one instance up by its business key as a plan does: a
// list filtered on the key. A server that ignores the filter answers
// every instance: a plan still works (it compares the key itself), slower.
func (r *run) vossFind(model, h string, in voss.Summary) {
	field := map[string]string{"data/User": "username", "relation/HcsAdminUserREL": "hcsUname"}[model]
	key, _ := in.Data[field].(string)
	if field == "" || key == "" {
		return
	}
	check := "find[" + model + "]"
	n, found := 0, false
	err := r.t.VOSS.List(r.ctx, model, h, [2]string{field, key}, func(s voss.Summary) error {
		n++
		found = found || s.Pkid == in.Pkid
		return nil
	})
	switch {
	case err != nil:
		r.fail(check, "looking one instance up by "+field, err)
	case !found:
		r.add(Fail, check, fmt.Sprintf("the lookup by %s a plan makes did not answer the instance just listed (%d answered)", field, n), Other)
	case n > 1:
		r.add(Warn, check, fmt.Sprintf("the lookup by %s answered %d instances: the server ignores the filter, so a plan lists more than it needs (it still compares the key itself)", field, n), Other)
	default:
		r.add(OK, check, "looked one instance up by "+field+" as a plan does", Other)
	}
}

func (r *run) cupi() {
	c := r.t.CUPI
	total, users, err := c.Page(r.ctx, "/users", "User", 1)
	if !r.auth(err, "credentials accepted") {
		return
	}
	r.probe = func(ctx context.Context) error { _, _, err := c.Page(ctx, "/users", "User", 0); return err }
	if err != nil {
		r.fail("list[users]", "listing users", err)
	} else {
		r.add(OK, "list[users]", fmt.Sprintf("%d users", total), Other)
	}
	if len(users) == 0 {
		for _, n := range []string{"get[user]", "list[userroles]", "get[credential/password]", "get[credential/pin]"} {
			r.add(Warn, n, "no user to try it on; the permission is not proven", Other)
		}
	} else {
		id := users[0]["ObjectId"]
		if _, err := c.User(r.ctx, id); err != nil {
			r.fail("get[user]", "reading one user", err)
		} else {
			r.add(OK, "get[user]", "read one user", Other)
		}
		if alias := users[0]["Alias"]; alias != "" {
			switch u, err := c.FindUser(r.ctx, alias); {
			case err != nil:
				r.fail("find[user]", "looking one user up by alias", err)
			case u["ObjectId"] != id:
				r.add(Fail, "find[user]", "the lookup by alias a plan makes answered another user than the one just listed", Other)
			default:
				r.add(OK, "find[user]", "looked one user up by alias as a plan does", Other)
			}
		}
		if _, err := c.UserRoles(r.ctx, id); err != nil {
			r.fail("list[userroles]", "listing one user's roles", err)
		} else {
			r.add(OK, "list[userroles]", "listed one user's roles", Other)
		}
		for _, kind := range []string{cupi.Password, cupi.PIN} {
			cred, err := c.Credential(r.ctx, id, kind)
			switch {
			case err != nil:
				r.fail("get[credential/"+kind+"]", "reading one user's "+kind+" settings", err)
			case cred["Credentials"] != "":
				r.add(Warn, "get[credential/"+kind+"]", "the server returned a secret value; it should never", Other)
			case cred["TimeChanged"] == "":
				r.add(Warn, "get[credential/"+kind+"]", "no TimeChanged: a lost answer to a set cannot be proven landed", Other)
			default:
				r.add(OK, "get[credential/"+kind+"]", "settings readable, TimeChanged present (the proof of a set)", Other)
			}
		}
	}
	names := func(check, single, what, field string, list func(context.Context) ([]cupi.Object, error), want []string) {
		objs, err := list(r.ctx)
		if err != nil {
			r.fail("list["+check+"]", "listing "+what, err)
			return
		}
		r.add(OK, "list["+check+"]", fmt.Sprintf("%d %s", len(objs), what), Other)
		have := map[string]bool{}
		for _, o := range objs {
			have[strings.ToLower(o[field])] = true
		}
		for _, n := range want {
			if have[strings.ToLower(n)] {
				r.add(OK, single+"["+n+"]", "exists", Other)
			} else {
				r.add(Fail, single+"["+n+"]", "named by the config but not found on Unity Connection", Other)
			}
		}
	}
	names("roles", "role", "roles", "RoleName", c.Roles, configCUPIRoles(r.cfg))
	names("credentialpolicies", "policy", "credential policies", "DisplayName", c.CredentialPolicies, configPolicies(r.cfg))
	names("usertemplates", "template", "user templates", "Alias", c.UserTemplates, []string{r.cfg.Template()})
	names("authz/server", "authz", "authorization servers", "DisplayName", c.AuthzServers, nil)
}

// latency measures the probe read and says what it means for a run.
func (r *run) latency(n int) {
	if r.probe == nil {
		return
	}
	var ds []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := r.probe(r.ctx); err != nil {
			r.fail("latency", "measuring latency", err)
			return
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	p50, worst := ds[len(ds)/2], ds[len(ds)-1]
	workers := r.t.Workers
	perRow := 6.0 // CUPI: find, create, role list and add, credential read and set
	limit := "5 requests in service at once (the CUPI throttle)"
	if workers <= 0 {
		workers = 5
	}
	if r.t.VOSS != nil {
		perRow = 3 // create, transaction poll, plan read (bulk export shared)
		limit = fmt.Sprintf("%d workers", workers)
	}
	rate := float64(workers) / p50.Seconds()
	if r.t.RateLimit > 0 && rate > r.t.RateLimit {
		rate = r.t.RateLimit
		limit = fmt.Sprintf("the %.0f requests/s pace", r.t.RateLimit)
	}
	per1000 := max(time.Duration(1000*perRow/rate*float64(time.Second)), time.Second)
	status := OK
	detail := fmt.Sprintf("p50 %s, worst %s over %d reads; bound by %s: about %.0f requests/s, so ~%s per 1,000 users (≈%.0f requests each)",
		ms(p50), ms(worst), n, limit, rate, per1000.Round(time.Second), perRow)
	if p50 > 500*time.Millisecond {
		status = Warn
		detail += "; slow: expect a long change window"
	}
	r.add(status, "latency", detail, Other)
}

func sortedUnique(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// configHierarchies lists the VOSS hierarchies the config names as
// targets, the prefixes its cupiClusters route by included.
func configHierarchies(c *transform.Config) []string {
	in := []string{c.DefaultHierarchy}
	for _, to := range c.Hierarchies {
		in = append(in, to)
	}
	for _, cl := range c.CUPIClusters {
		for _, p := range cl.Hierarchies {
			in = append(in, strings.TrimSuffix(strings.TrimSpace(p), "."))
		}
	}
	return sortedUnique(in)
}

// configVOSSRoles lists the VOSS roles the config names.
func configVOSSRoles(c *transform.Config) []string {
	var in []string
	for _, to := range c.VOSSRoles { // the source roles live on the old system
		in = append(in, to)
	}
	for r := range c.Roles {
		in = append(in, r)
	}
	return sortedUnique(in)
}

// configCUPIRoles lists the CUPI roles the config maps VOSS roles to.
func configCUPIRoles(c *transform.Config) []string {
	var in []string
	for _, rs := range c.Roles {
		in = append(in, rs...)
	}
	return sortedUnique(in)
}

// configPolicies lists the CUPI credential policies the config names.
func configPolicies(c *transform.Config) []string {
	var in []string
	for _, p := range c.CredentialPolicies {
		in = append(in, p)
	}
	return sortedUnique(in)
}

// Print writes the report, one line per check.
func Print(w io.Writer, checks []Check) {
	for _, c := range checks {
		fmt.Fprintln(w, c.String())
	}
}
