// Package dial builds the targets a run works on — VOSS, the default Unity
// Connection and the clusters, each with its client, credentials,
// concurrency limiter and, for VOSS, its pacing — the one way bulkprov's
// commands, the simulators' seeding and bulkbench build them.
package dial

import (
	"net/http"

	"golang.org/x/time/rate"

	"github.com/bulkprov/bulkprov/internal/engine/kinds"
	"github.com/bulkprov/bulkprov/internal/engine/pace"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
)

// Config says which targets to build and how.
type Config struct {
	// VOSSURL and CUPIURL are the base URLs ("": no such target), with
	// the credentials each takes.
	VOSSURL, CUPIURL     string
	VOSSCreds, CUPICreds targets.Credentials
	// Clusters are the Unity Connection clusters besides the default
	// one, each with its own client, credentials and limiter.
	Clusters []Cluster
	// HTTP are the options of every target's HTTP client; Conns 0 is the
	// target's worker cap.
	HTTP targets.HTTPOptions
	// VOSSWorkers and CUPIWorkers cap each target's concurrent requests
	// (0: pace.DefaultVOSSWorkers, pace.DefaultCUPIWorkers); a cluster
	// takes CUPIWorkers.
	VOSSWorkers, CUPIWorkers int
	// VOSSRate > 0 paces every VOSS request, polls included, at that many
	// a second (Targets.VOSSPace).
	VOSSRate float64
	// VOSSNowait sends VOSS writes as transactions polled to their end.
	VOSSNowait bool
	// Sequential gives VOSS and CUPI one limiter of one slot: a client
	// that sends one request at a time (bulkbench's baseline).
	Sequential bool
	// ID, VOSSName and CUPIName override the targets' identity ("": from
	// the URLs); a cluster's part of the ID is added to ID either way.
	ID, VOSSName, CUPIName string
	// ClusterPrefixes are the config's hierarchy prefixes of the clusters
	// (transform.Config.ClusterPrefixes).
	ClusterPrefixes string
}

// Cluster is one Unity Connection cluster to build.
type Cluster struct {
	Name, URL string
	Creds     targets.Credentials
	// Label, when set, stands for the URL in the targets' identity and
	// the run state (the in-process simulators' ports change each run).
	Label string
}

// Clients are the concrete clients behind the targets' interfaces, for
// what needs more than the engine does (export, list, progress hooks).
type Clients struct {
	VOSS     *voss.Client
	CUPI     *cupi.Client
	Clusters map[string]*cupi.Client
}

// New builds the targets c names. Its only error is an HTTP client's (a
// CA file that cannot be read).
func New(c Config) (*kinds.Targets, Clients, error) {
	var cl Clients
	vossMax, cupiMax := c.VOSSWorkers, c.CUPIWorkers
	if vossMax <= 0 {
		vossMax = pace.DefaultVOSSWorkers
	}
	if cupiMax <= 0 {
		cupiMax = pace.DefaultCUPIWorkers
	}
	t := &kinds.Targets{VOSSLimiter: pace.NewLimiter("voss", vossMax), CUPILimiter: pace.NewLimiter("cupi", cupiMax)}
	if c.Sequential {
		one := pace.NewLimiter("voss+cupi", 1)
		t.VOSSLimiter, t.CUPILimiter = one, one
	}
	if c.VOSSURL != "" {
		hc, err := c.client(vossMax)
		if err != nil {
			return nil, cl, err
		}
		if c.VOSSRate > 0 {
			t.VOSSPace = rate.NewLimiter(rate.Limit(c.VOSSRate), 1)
			hc.Transport = targets.PacedObserved(hc.Transport, t.VOSSPace, t.VOSSLimiter.Waited)
		}
		cl.VOSS = vossload.New(c.VOSSURL, hc, c.VOSSCreds)
		// Synchronous writes cost one request of VOSS's 20 req/s budget
		// each, a nowait write three or more (POST, polls, the pkid's GET):
		// measured in BENCHMARKS.md, synchronous is the default.
		cl.VOSS.Nowait = c.VOSSNowait
		cl.VOSS.Observe = t.VOSSLimiter.Observe
		t.VOSS = cl.VOSS
	}
	if c.CUPIURL != "" {
		hc, err := c.client(cupiMax)
		if err != nil {
			return nil, cl, err
		}
		cl.CUPI = cupi.New(c.CUPIURL, hc, c.CUPICreds)
		cl.CUPI.Observe = t.CUPILimiter.Observe
		t.CUPI = cl.CUPI
	}
	t.VOSSName, t.CUPIName = or(c.VOSSName, c.VOSSURL), or(c.CUPIName, c.CUPIURL)
	t.ID = or(c.ID, "voss="+c.VOSSURL+" cupi="+c.CUPIURL)
	for _, k := range c.Clusters {
		hc, err := c.client(cupiMax)
		if err != nil {
			return nil, cl, err
		}
		cc := cupi.New(k.URL, hc, k.Creds)
		kc := &kinds.Cluster{Name: k.Name, URL: or(k.Label, k.URL), CUPI: cc, Limiter: pace.NewLimiter(kinds.LimiterName(k.Name), cupiMax)}
		cc.Observe = kc.Limiter.Observe
		if cl.Clusters == nil {
			cl.Clusters = map[string]*cupi.Client{}
		}
		cl.Clusters[k.Name] = cc
		t.AddCluster(kc)
		t.ID += " cupi[" + k.Name + "]=" + kc.URL
	}
	t.SetClusterPrefixes(c.ClusterPrefixes)
	return t, cl, nil
}

// client is a target's HTTP client, with conns connections unless the
// options say how many.
func (c *Config) client(conns int) (*http.Client, error) {
	o := c.HTTP
	if o.Conns == 0 {
		o.Conns = conns
	}
	return targets.NewHTTPClient(o)
}

func or(s, otherwise string) string {
	if s != "" {
		return s
	}
	return otherwise
}
