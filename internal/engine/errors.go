package engine

import (
	"errors"

	"github.com/bulkprov/bulkprov/targets"
)

func apiErr(err error) *targets.APIError {
	var ae *targets.APIError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

func status(err error) int {
	if err == nil {
		return 200
	}
	if ae := apiErr(err); ae != nil {
		return ae.Status
	}
	return 0
}

// FatalError stops a run: authentication refused, permission denied, or a
// target unreachable after retries. The checkpoint allows a resume.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// fatal wraps err as a FatalError when it should stop the run.
func fatal(err error) error {
	if err == nil {
		return nil
	}
	switch targets.Classify(err) {
	case targets.Fatal, targets.Transient, targets.Throttled:
		return &FatalError{Err: err}
	}
	return err
}
