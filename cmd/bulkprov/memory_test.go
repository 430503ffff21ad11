package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// tightenGC sets the collector's target for plan and apply, puts the
// previous one back, and leaves a GOGC from the environment alone.
func TestTightenGC(t *testing.T) {
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	prev := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prev)
	restore := tightenGC(applyGCPercent)
	if got := debug.SetGCPercent(applyGCPercent); got != applyGCPercent {
		t.Errorf("GC percent %d during the run, want %d", got, applyGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GC percent %d after the run, want 150 back", got)
	}
	t.Setenv("GOGC", "150")
	restore = tightenGC(planGCPercent)
	got := debug.SetGCPercent(150)
	restore()
	if got != 150 {
		t.Errorf("GOGC=150 in the environment: GC percent %d", got)
	}
}
