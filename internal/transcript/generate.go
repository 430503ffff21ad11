package transcript

// The replay test's fixture: doctor --record against the seeded simulators.
//go:generate sh testdata/record.sh
