// Package simserve runs both simulators on one loopback listener: VOSS
// under /api and CUPI under /vmrest. It backs `bulkprov sim`, the --sim
// flag and the end-to-end tests.
package simserve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bulkprov/bulkprov/targets/cupi/sim"
	"github.com/bulkprov/bulkprov/targets/simkit"
	vsim "github.com/bulkprov/bulkprov/targets/voss/sim"
)

// Options configure both simulators.
type Options struct {
	Addr           string // listen address; default 127.0.0.1:0
	User, Password string
	// CUPIUser and CUPIPassword are what the Unity Connection simulators
	// accept (default: User and Password); ClusterAuth overrides them
	// per further cluster, by name, as user and password.
	CUPIUser, CUPIPassword string
	ClusterAuth            map[string][2]string
	CUPI                   sim.Options
	VOSS                   vsim.Options
	Faults                 simkit.Faults
	StateFile              string // load at start, save on change and at Close
	// TLSCAOut, when set, makes the simulators serve HTTPS with a fresh
	// self-signed certificate, written to this file as PEM so a client
	// can trust it (--ca-file).
	TLSCAOut string
	// Clusters names further Unity Connection clusters to serve, each an
	// independent CUPI simulator (own users, own slots, same options and
	// credentials) on its own port, over plain HTTP.
	Clusters []string
}

// Cluster is one further Unity Connection simulator.
type Cluster struct {
	Name string
	URL  string
	CUPI *sim.Server
	srv  *http.Server
}

// Running is a started pair of simulators.
type Running struct {
	URL  string // base URL of both
	CUPI *sim.Server
	VOSS *vsim.Server
	// Clusters are the further Unity Connection simulators, in the order
	// Options.Clusters named them.
	Clusters []*Cluster

	srv  *http.Server
	ln   net.Listener
	opts Options
	stop chan struct{}
	wg   sync.WaitGroup
}

type persisted struct {
	VOSS     []byte            `json:"voss"`
	CUPI     []byte            `json:"cupi"`
	Clusters map[string][]byte `json:"clusters,omitempty"` // by cluster name
}

// Start starts the simulators.
func Start(o Options) (*Running, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	// A misbehaviour knob that names no field would leave the simulator
	// behaving: refuse it rather than test nothing.
	if err := o.VOSS.Validate(); err != nil {
		return nil, fmt.Errorf("voss: %w", err)
	}
	if err := o.CUPI.Validate(); err != nil {
		return nil, fmt.Errorf("cupi: %w", err)
	}
	o.CUPI.User, o.CUPI.Password = o.User, o.Password
	if o.CUPIUser != "" {
		o.CUPI.User, o.CUPI.Password = o.CUPIUser, o.CUPIPassword
	}
	o.VOSS.User, o.VOSS.Password = o.User, o.Password
	o.CUPI.Faults, o.VOSS.Faults = o.Faults, o.Faults
	r := &Running{CUPI: sim.New(o.CUPI), VOSS: vsim.New(o.VOSS), opts: o, stop: make(chan struct{})}
	for _, name := range o.Clusters {
		co := o.CUPI
		if a, ok := o.ClusterAuth[name]; ok {
			co.User, co.Password = a[0], a[1]
		}
		r.Clusters = append(r.Clusters, &Cluster{Name: name, CUPI: sim.New(co)})
	}
	if o.StateFile != "" {
		if err := r.load(); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", o.Addr, err)
	}
	r.URL = "http://" + ln.Addr().String()
	if o.TLSCAOut != "" {
		cfg, pemBytes, err := selfSigned()
		if err == nil {
			err = writeCA(o.TLSCAOut, pemBytes)
		}
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("TLS: %w", err)
		}
		ln = tls.NewListener(ln, cfg)
		r.URL = "https://" + ln.Addr().String()
	}
	r.ln = ln
	mux := http.NewServeMux()
	mux.Handle("/vmrest/", r.CUPI)
	mux.Handle("/sim/cupi/", r.CUPI)
	mux.Handle("/", r.VOSS)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	for _, c := range r.Clusters {
		cln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("cluster %s: listen: %w", c.Name, err)
		}
		c.URL = "http://" + cln.Addr().String()
		cm := http.NewServeMux()
		cm.Handle("/vmrest/", c.CUPI)
		cm.Handle("/sim/cupi/", c.CUPI)
		c.srv = &http.Server{Handler: cm, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = c.srv.Serve(cln) }()
	}
	if o.StateFile != "" {
		r.wg.Add(1)
		go r.saver()
	}
	return r, nil
}

func (r *Running) load() error {
	b, err := os.ReadFile(r.opts.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var p persisted
	if err := jsonUnmarshal(b, &p); err != nil {
		return fmt.Errorf("--state %s: %w", r.opts.StateFile, err)
	}
	if len(p.VOSS) > 0 {
		if err := r.VOSS.Load(p.VOSS); err != nil {
			return err
		}
	}
	if len(p.CUPI) > 0 {
		if err := r.CUPI.Load(p.CUPI); err != nil {
			return err
		}
	}
	for _, c := range r.Clusters {
		if b := p.Clusters[c.Name]; len(b) > 0 {
			if err := c.CUPI.Load(b); err != nil {
				return fmt.Errorf("--state %s: cluster %s: %w", r.opts.StateFile, c.Name, err)
			}
		}
	}
	return nil
}

// Save writes the state file (atomically) when any simulator changed:
// VOSS, the main Unity Connection and each further cluster.
func (r *Running) Save(force bool) error {
	if r.opts.StateFile == "" || (!force && !r.dirty()) {
		return nil
	}
	v, err := r.VOSS.Save()
	if err != nil {
		return err
	}
	c, err := r.CUPI.Save()
	if err != nil {
		return err
	}
	p := persisted{VOSS: v, CUPI: c}
	for _, cl := range r.Clusters {
		b, err := cl.CUPI.Save()
		if err != nil {
			return err
		}
		if p.Clusters == nil {
			p.Clusters = map[string][]byte{}
		}
		p.Clusters[cl.Name] = b
	}
	b, err := jsonMarshal(p)
	if err != nil {
		return err
	}
	tmp := r.opts.StateFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, r.opts.StateFile)
}

func (r *Running) dirty() bool {
	d := r.VOSS.Dirty() || r.CUPI.Dirty()
	for _, c := range r.Clusters {
		d = c.CUPI.Dirty() || d
	}
	return d
}

func (r *Running) saver() {
	defer r.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			_ = r.Save(false)
		}
	}
}

// Close stops serving and saves the state.
func (r *Running) Close() error {
	close(r.stop)
	r.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = r.srv.Shutdown(ctx)
	for _, c := range r.Clusters {
		_ = c.srv.Shutdown(ctx)
	}
	return r.Save(true)
}

// Writes returns both simulators' write counts, keys prefixed by target.
func (r *Running) Writes() map[string]int {
	out := map[string]int{}
	for k, v := range r.VOSS.Writes.Snapshot() {
		out["voss "+k] = v
	}
	for k, v := range r.CUPI.Writes.Snapshot() {
		out["cupi "+k] = v
	}
	return out
}

// Duplicates returns the keys created more than once.
func Duplicates(writes map[string]int) []string {
	var out []string
	for k, v := range writes {
		if v > 1 && (strings.HasSuffix(k, ":create") || strings.HasSuffix(k, ":add")) {
			out = append(out, k)
		}
	}
	return out
}
