package main

import (
	"fmt"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/estimate"
	"github.com/bulkprov/bulkprov/internal/report"
)

// planEstimate forecasts the apply of plan p from the requests it plans
// per target and cluster and the limits of the servers (the plan's own
// reads measured the latency): the Estimate line that ends plan's output,
// and the report's estimate.
func planEstimate(p *engine.Plan, conn *connection, tf *targetFlags) (string, *report.Estimate) {
	o := estimate.Options{VOSSNowait: tf.vossNowait}
	if conn.targets.VOSSPace != nil {
		o.VOSSRate = float64(conn.targets.VOSSPace.Limit())
	}
	f := estimate.Make(p, conn.targets, o)
	return f.Line(), f.Report()
}

// printEstimate ends plan's human output with the estimate line.
func printEstimate(io streams, line string) { fmt.Fprintln(io.out, line) }
