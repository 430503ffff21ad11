package store

// RecordCanary notes in the journal, durably, that the run's canary rows
// were written and every value read back was kept (apply --canary): a
// resumed run goes on with the rest and does not repeat the canary.
func (j *Journal) RecordCanary() error {
	if j == nil {
		return nil
	}
	return j.append(Entry{Type: "canary", Status: Done}, true)
}

// CanaryPassed reports whether the interrupted run this journal resumes
// passed its canary. A nil journal has none.
func (j *Journal) CanaryPassed() bool { return j != nil && j.canary }
