package kinds

import (
	"errors"

	"github.com/bulkprov/bulkprov/targets"
)

func APIErr(err error) *targets.APIError {
	var ae *targets.APIError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

func HTTPStatus(err error) int {
	if err == nil {
		return 200
	}
	if ae := APIErr(err); ae != nil {
		return ae.Status
	}
	return 0
}

// FatalError stops a run: authentication refused, permission denied, or a
// target unreachable after retries. The checkpoint allows a resume.
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// Fatal wraps err as a FatalError when it should stop the run.
func Fatal(err error) error {
	if err == nil {
		return nil
	}
	switch targets.Classify(err) {
	case targets.Fatal, targets.Transient, targets.Throttled:
		return &FatalError{Err: err}
	}
	return err
}
