package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
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

// tightenGC sets the collector's target to percent unless GOGC is set,
// and returns what puts the previous target back (plan and apply also run
// inside tests).
func tightenGC(percent int) (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	prev := debug.SetGCPercent(percent)
	return func() { debug.SetGCPercent(prev) }
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
