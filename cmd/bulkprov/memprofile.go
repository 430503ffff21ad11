package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

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
