package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"sync"
)

// The garbage collector's targets (GOGC) when the environment sets none:
// a collection when the heap has grown this share over what was live, not
// the default 100 %. Plan and apply hold a plan that grows with the input
// for the whole run, so the heap's headroom, not CPU, is what grows with
// the rows. Plan is short and CPU-bound; apply spends its time waiting on
// the servers (CUPI's 5 slots, VOSS's 20 requests a second), where the
// collector's extra work costs nothing a user waits for. What each costs
// in CPU, and saves, is in BENCHMARKS.md (Memory).
const (
	planGCPercent  = 25
	applyGCPercent = 15
)

// gcHeadroom is the least the heap may grow over what is live before the
// next collection. A share of a small live heap is a few megabytes, and
// the collector then runs every few hundred requests for no memory saved
// that matters (issue 28: at GOGC=15 a 2,000-row apply spent a quarter of
// its CPU collecting); a share of a large one is the per-row cost the
// share bounds. So the target is the larger of the two, set again after
// every collection (gcTuner).
const gcHeadroom = 32 << 20

// gcPercentFor is the GOGC that lets a heap of live bytes grow by the
// larger of percent and gcHeadroom (at most 1000 %).
func gcPercentFor(percent int, live uint64) int {
	if live == 0 {
		return 1000
	}
	if h := gcHeadroom * 100 / live; h > uint64(percent) {
		return int(min(h, 1000))
	}
	return percent
}

// gcTuner sets GOGC from the live heap after each collection (a finalizer
// on an object dropped each cycle runs once per collection).
type gcTuner struct {
	percent int
	mu      sync.Mutex
	stopped bool
	sample  []rtmetrics.Sample
}

type gcSentinel struct {
	t *gcTuner
	_ [16]byte // not a tiny allocation: its finalizer runs
}

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{t: t}, func(s *gcSentinel) {
		s.t.mu.Lock()
		defer s.t.mu.Unlock()
		if s.t.stopped {
			return
		}
		rtmetrics.Read(s.t.sample)
		debug.SetGCPercent(gcPercentFor(s.t.percent, s.t.sample[0].Value.Uint64()))
		s.t.arm()
	})
}

// tightenGC sets the collector's target to percent of the live heap, or
// gcHeadroom if that is more, unless GOGC is set, and returns what puts
// the previous target back (plan and apply also run inside tests).
func tightenGC(percent int) (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	t := &gcTuner{percent: percent, sample: []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	rtmetrics.Read(t.sample)
	live := uint64(0)
	if t.sample[0].Value.Kind() == rtmetrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	prev := debug.SetGCPercent(gcPercentFor(percent, live))
	t.arm()
	return func() {
		t.mu.Lock()
		t.stopped = true
		debug.SetGCPercent(prev)
		t.mu.Unlock()
	}
}

// writeMemProfile writes a heap profile to $BULKPROV_MEMPROFILE, when it
// is set, after a collection: what is live at the end of plan or apply
// (the plan and its report still held) and, as alloc_space, everything
// allocated on the way. A developer's tool (README, "Developing"); it is
// no flag and no contract.
func writeMemProfile(io streams) {
	path := os.Getenv("BULKPROV_MEMPROFILE")
	if path == "" {
		return
	}
	runtime.GC()
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(io.err, "bulkprov: BULKPROV_MEMPROFILE:", err)
	}
}

// startCPUProfile writes a CPU profile of the whole process to
// $BULKPROV_CPUPROFILE, when it is set, until the returned function is
// called. A developer's tool, like BULKPROV_MEMPROFILE.
func startCPUProfile() (stop func()) {
	path := os.Getenv("BULKPROV_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bulkprov: BULKPROV_CPUPROFILE:", err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
