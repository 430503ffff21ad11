package report

// Estimate is a plan's forecast of how long its apply will take: the
// time of the slowest target, from the requests planned for it and the
// server's limit (VOSS's requests per second, CUPI's slots at the latency
// the plan's own reads measured).
type Estimate struct {
	Seconds float64 `json:"seconds"`
	BoundBy string  `json:"bound_by"` // the target that sets the pace: voss, cupi, cupi[NAME]
	// Detail says how it was reckoned, per target.
	Detail string `json:"detail,omitempty"`
}
