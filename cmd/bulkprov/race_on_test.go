//go:build race

package main

// raceEnabled makes the end-to-end tests build the binary with the race
// detector when they run under it, so the whole CLI is race-checked.
const raceEnabled = true
