// Package pace is the pacing room of the engine: it keeps each target at
// the concurrency and rate the server bears (an AIMD limiter per target),
// retries what the server asks to retry (capped exponential back-off with
// full jitter, Retry-After honoured), and counts every request for the
// run's figures. It knows no operation kinds, no plan and no files.
package pace

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
