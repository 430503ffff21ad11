package kinds

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bulkprov/bulkprov/targets"
)

// DefaultCluster names the Unity Connection of --cupi.
const DefaultCluster = "default"

// Cluster is one tenant's Unity Connection cluster: its client and its
// own limiter (5 requests in service, never more than 7 in flight).
type Cluster struct {
	Name    string
	URL     string // normalised base URL; keys the run state
	CUPI    CUPIAPI
	Limiter *Limiter
}

// ClusterName is the name of a want's or an operation's cluster.
func ClusterName(name string) string {
	if name == "" {
		return DefaultCluster
	}
	return name
}

// LimiterName names the limiter (and the figures) of cluster name:
// "cupi" for the default cluster, "cupi[NAME]" for the others.
func LimiterName(name string) string {
	if ClusterName(name) == DefaultCluster {
		return "cupi"
	}
	return "cupi[" + name + "]"
}

// AddCluster adds a Unity Connection cluster to the targets. The default
// cluster is t.CUPI itself.
func (t *Targets) AddCluster(c *Cluster) {
	if t.Clusters == nil {
		t.Clusters = map[string]*Cluster{}
	}
	t.Clusters[c.Name] = c
	t.views = nil
}

// SetClusterPrefixes records the configured hierarchy prefixes, for the
// error of a row that matches no cluster when there is no --cupi.
func (t *Targets) SetClusterPrefixes(s string) { t.clusterPrefixes = s }

// Cluster returns the targets as an operation of cluster name sees them:
// the same VOSS, and that cluster's CUPI client, limiter and run-state
// name. The default cluster is t itself.
func (t *Targets) Cluster(name string) *Targets {
	name = ClusterName(name)
	if name == DefaultCluster {
		return t
	}
	t.viewsMu.Lock()
	defer t.viewsMu.Unlock()
	if v := t.views[name]; v != nil {
		return v
	}
	v := &Targets{VOSS: t.VOSS, VOSSLimiter: t.VOSSLimiter, VOSSPace: t.VOSSPace, ID: t.ID, VOSSName: t.VOSSName}
	if c := t.Clusters[name]; c != nil {
		v.CUPI, v.CUPILimiter, v.CUPIName = c.CUPI, c.Limiter, c.URL
	} else {
		v.CUPILimiter = NewLimiter(LimiterName(name), 1)
	}
	if t.views == nil {
		t.views = map[string]*Targets{}
	}
	t.views[name] = v
	return v
}

// Limiters returns the limiters of every target, VOSS first, then the
// default cluster, then the others by name.
func (t *Targets) Limiters() []*Limiter {
	out := []*Limiter{t.VOSSLimiter, t.CUPILimiter}
	names := make([]string, 0, len(t.Clusters))
	for n := range t.Clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, t.Clusters[n].Limiter)
	}
	return out
}

// ClustersDown is a run in which some Unity Connection clusters could not
// be used (unreachable, access refused): their operations failed, the
// others' went on.
type ClustersDown struct{ Errs map[string]error }

func (e *ClustersDown) Error() string {
	names := make([]string, 0, len(e.Errs))
	for n := range e.Errs {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("Unity Connection %s: %v", n, e.Errs[n])
	}
	return strings.Join(parts, "; ")
}

// NotRunDown is the reason of an operation not run because its Unity
// Connection cluster is down (unreachable, or refusing access), found so
// at plan time or mid-run: the same words for every such operation, so
// a report counts them under one reason and says it once.
func NotRunDown(cluster string, err error) string {
	if targets.AccessDenied(err) {
		return "not run: Unity Connection " + cluster + " refused access"
	}
	return "not run: Unity Connection " + cluster + " unreachable"
}

// wentDown reports whether err, why a cluster could not be read, is the
// cluster failing as a whole (unreachable, access refused: clusterDown)
// rather than a cluster the run cannot name (no URL for it).
func wentDown(err error) bool {
	var fe *FatalError
	return errors.As(err, &fe)
}
