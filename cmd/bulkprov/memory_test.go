package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
)

// The collector's target is the share of the live heap, or gcHeadroom
// when that is more (a small heap is not collected every few requests).
func TestGCPercentFor(t *testing.T) {
	for _, c := range []struct {
		percent int
		live    uint64
		want    int
	}{
		{15, 0, 1000},
		{15, 1 << 20, 1000},
		{15, 16 << 20, 200},
		{15, 64 << 20, 50},
		{15, 213 << 20, 15},
		{15, 1 << 30, 15},
		{25, 100 << 20, 32},
		{25, 1 << 30, 25},
	} {
		if got := gcPercentFor(c.percent, c.live); got != c.want {
			t.Errorf("gcPercentFor(%d, %d MiB) = %d, want %d", c.percent, c.live>>20, got, c.want)
		}
	}
}

// tightenGC sets the collector's target for plan and apply, puts the
// previous one back, and leaves a GOGC from the environment alone.
func TestTightenGC(t *testing.T) {
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	prev := debug.SetGCPercent(150)
	defer debug.SetGCPercent(prev)
	restore := tightenGC(applyGCPercent)
	if got := debug.SetGCPercent(applyGCPercent); got < applyGCPercent || got == 150 {
		t.Errorf("GC percent %d during the run, want %d or the headroom's", got, applyGCPercent)
	}
	runtime.GC() // the tuner sets it again after a collection
	runtime.GC()
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
