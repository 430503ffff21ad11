// Package estimate forecasts how long an apply will take, before the
// change window is booked: from the requests a plan will send to each
// target (and Unity Connection cluster) and the servers' limits — VOSS's
// requests-per-second budget, every request counted, polls included; CUPI's
// 5 requests in service at once, at the latency the plan's own reads
// measured. The targets work in parallel, so the apply takes about as long
// as the slowest of them, which is named as the bound.
package estimate

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/report"
)

// Options are what the estimate cannot read from the plan.
type Options struct {
	// VOSSRate is the pace of VOSS requests (--voss-rate); 0: unpaced.
	VOSSRate float64
	// VOSSNowait: each VOSS write is a transaction polled to its end
	// (POST, polls, the pkid's GET) instead of one synchronous request.
	VOSSNowait bool
}

// CUPISlots is how many requests Unity Connection serves at once (it
// queues the rest).
const CUPISlots = engine.StartLimit

// Requests a write costs, beyond the plan's reads (which apply repeats:
// it plans afresh). Measured against the simulators (BENCHMARKS.md).
const (
	vossSyncWrite   = 1.0
	vossNowaitWrite = 3.0 // POST, one poll or more, and the created object's GET
	cupiWrite       = 1.0
	cupiSecretSet   = 2.0 // for a user the apply creates: the credential's TimeChanged read first (what proves a set whose answer was lost), then the PUT
)

// Target is one target's share of the forecast.
type Target struct {
	Name     string        // voss, cupi, cupi[NAME]
	Reads    int           // requests the plan's reads took (apply sends them again)
	Writes   int           // operations that write
	Requests float64       // reads + the requests the writes cost
	Latency  time.Duration // median latency of the plan's requests
	Limit    string        // what paces it, in words
	Seconds  float64
}

// Forecast is the whole estimate.
type Forecast struct {
	Targets []Target
	Bound   *Target // the slowest; nil when nothing is sent
}

// Make forecasts the apply of p against t, whose limiters hold the
// figures of the plan's own reads (call it right after planning).
func Make(p *engine.Plan, t *engine.Targets, o Options) Forecast {
	byName := map[string]*Target{}
	var order []string
	get := func(name string) *Target {
		if tg := byName[name]; tg != nil {
			return tg
		}
		tg := &Target{Name: name}
		byName[name] = tg
		order = append(order, name)
		return tg
	}
	lims := map[string]*engine.Limiter{}
	for _, l := range t.Limiters() {
		if l == nil {
			continue
		}
		lims[l.Name] = l
		if s := l.Stats(); s.Requests > 0 {
			tg := get(l.Name)
			tg.Reads, tg.Requests = s.Requests, float64(s.Requests)
			tg.Latency = s.Percentile(50)
			if l.Name != "voss" {
				tg.Latency = serviceTime(s, tg.Latency, math.Min(CUPISlots, float64(l.Max)), float64(l.Max))
			}
		}
	}
	// A set of a password or PIN reads the credential's TimeChanged first
	// (what proves a set whose answer was lost): the plan read it for a
	// user that exists, apply reads it for a user it creates.
	created := map[int]bool{}
	for _, op := range p.Ops {
		if op.Kind == engine.KindCUPIUser && op.Action == engine.Create && op.Status == engine.Planned {
			created[op.Row] = true
		}
	}
	for _, op := range p.Ops {
		if op.Status != engine.Planned || !op.Writes() {
			continue
		}
		name := op.Target
		if op.Target == "cupi" {
			name = engine.LimiterName(op.Cluster)
		}
		tg := get(name)
		tg.Writes++
		tg.Requests += writeCost(op, o, created[op.Row])
	}
	var f Forecast
	for _, name := range order {
		tg := byName[name]
		l := lims[name]
		switch {
		case name == "voss":
			conc := float64(engine.DefaultVOSSWorkers)
			if l != nil {
				conc = float64(l.Max)
			}
			byLatency := tg.Requests * tg.Latency.Seconds() / conc
			tg.Seconds, tg.Limit = byLatency, fmt.Sprintf("%.0f requests at %s each, %.0f at once", tg.Requests, round(tg.Latency), conc)
			if o.VOSSRate > 0 {
				if byRate := tg.Requests / o.VOSSRate; byRate >= byLatency {
					tg.Seconds, tg.Limit = byRate, fmt.Sprintf("%.0f requests at %g req/s", tg.Requests, o.VOSSRate)
				}
			}
		default:
			slots := float64(CUPISlots)
			if l != nil {
				slots = math.Min(slots, float64(l.Max))
			}
			tg.Seconds = tg.Requests * tg.Latency.Seconds() / slots
			tg.Limit = fmt.Sprintf("%.0f requests at %s each, %.0f slots", tg.Requests, round(tg.Latency), slots)
		}
		f.Targets = append(f.Targets, *tg)
	}
	sort.SliceStable(f.Targets, func(i, j int) bool { return f.Targets[i].Seconds > f.Targets[j].Seconds })
	if len(f.Targets) > 0 {
		f.Bound = &f.Targets[0]
	}
	return f
}

// serviceTime is the time a Unity Connection slot spends on one request,
// from the plan's reads. Their median latency includes the time a request
// waited in the server's queue when the plan kept more requests in flight
// (up to the limiter's max) than the server has slots: then the rate they
// completed at says more. busy is the time the reads took (the timeline's
// ticks that had an answer, slightly more than the true time), and
// busy × slots ÷ reads the slot time per request. Queueing can inflate
// the latency by at most inflight ÷ slots, so the result stays between
// median × slots ÷ max and the median.
func serviceTime(s *engine.Stats, median time.Duration, slots, most float64) time.Duration {
	busy := 0
	for _, tk := range s.Timeline {
		if tk.Requests > 0 {
			busy++
		}
	}
	if s.Requests < 20 || busy == 0 || most <= slots {
		return median
	}
	perRequest := time.Duration(float64(busy) * float64(engine.TickWidth) * slots / float64(s.Requests))
	floor := time.Duration(float64(median) * slots / most)
	return min(median, max(perRequest, floor))
}

// writeCost is the requests one write costs.
func writeCost(op *engine.Op, o Options, userCreated bool) float64 {
	if op.Target == "voss" {
		if o.VOSSNowait {
			return vossNowaitWrite
		}
		return vossSyncWrite
	}
	if (op.Kind == engine.KindPassword || op.Kind == engine.KindPIN) && userCreated && setsSecret(op) {
		return cupiSecretSet
	}
	return cupiWrite
}

// setsSecret reports whether op sets a write-only value (a plan made for
// review holds the secret changes, not the values).
func setsSecret(op *engine.Op) bool {
	if op.Secrets.Len() > 0 {
		return true
	}
	for _, c := range op.Changes {
		if c.Secret {
			return true
		}
	}
	return false
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}

// Duration is the forecast apply time.
func (f Forecast) Duration() time.Duration {
	if f.Bound == nil {
		return 0
	}
	return time.Duration(f.Bound.Seconds * float64(time.Second))
}

// Line is the plan's closing line: "Estimate: apply about 4m10s, bound by
// voss (5000 requests at 20 req/s; cupi 2m3s)".
func (f Forecast) Line() string {
	if f.Bound == nil {
		return "Estimate: apply about 0s, bound by nothing (no request to send)"
	}
	var others []string
	for _, tg := range f.Targets[1:] {
		others = append(others, fmt.Sprintf("%s %s", tg.Name, human(tg.Seconds)))
	}
	detail := f.Bound.Limit
	if len(others) > 0 {
		detail += "; " + strings.Join(others, ", ")
	}
	return fmt.Sprintf("Estimate: apply about %s, bound by %s (%s)", human(f.Bound.Seconds), f.Bound.Name, detail)
}

// Report is the forecast as reports carry it.
func (f Forecast) Report() *report.Estimate {
	e := &report.Estimate{}
	if f.Bound != nil {
		e.Seconds = math.Round(f.Bound.Seconds*10) / 10
		e.BoundBy = f.Bound.Name
		e.Detail = strings.TrimPrefix(f.Line(), "Estimate: ")
	}
	return e
}

// human rounds a duration the way a change window is booked.
func human(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}
