package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/bulkprov/bulkprov/internal/engine"
	cupisim "github.com/bulkprov/bulkprov/targets/cupi/sim"
	"github.com/bulkprov/bulkprov/targets/simserve"
)

// benchRevert measures the back-out of a change to 10,000 users (rename
// and lock: a VOSS update and a CUPI credential update each): the size of
// the back-out file, and the change and its revert against the servers'
// floor (CUPI requests × service time ÷ 5 slots). A revert is an apply,
// so it should take the same share of that floor.
func benchRevert(dir string) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("BULKBENCH_REVERT_USERS")); err == nil && v > 0 {
		n = v
	}
	const service = 10 * time.Millisecond
	const hier = "sys.hcs.CS-P.CS-NB.AAAGlobal"
	sheet := func(name, first, locked string) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		must(err)
		fmt.Fprintf(f, "\"entity: data/User; hierarchy: %s\"\nusername,role,account_information.locked,DtmfAccessId,first_name\n", hier)
		for i := 0; i < n; i++ {
			fmt.Fprintf(f, "rb%05d,Help Desk Administrator,%s,6%05d,%s%d\n", i, locked, i, first, i)
		}
		must(f.Close())
		return path
	}
	base, change := sheet("base.csv", "First", "false"), sheet("change.csv", "Renamed", "true")
	r, err := simserve.Start(simserve.Options{User: "admin", Password: "admin", CUPI: cupisim.Options{Slots: 5, QueueTimeout: 20 * time.Second}})
	must(err)
	defer r.Close()
	ctx := context.Background()
	runs := 0
	// apply plans and applies as bulkprov apply does: with a checkpoint
	// journal (an intent synced before every write), and the back-out
	// file when given.
	apply := func(rows func(*engine.Targets) (*engine.Plan, error), bo *engine.Backout) (time.Duration, int, engine.Summary) {
		t := targetsFor(r.URL, engine.DefaultCUPIWorkers, engine.DefaultVOSSWorkers)
		runs++
		j, err := engine.OpenJournal(filepath.Join(dir, fmt.Sprintf("run%d.journal", runs)), "bench", true)
		must(err)
		s := time.Now()
		p, err := rows(t)
		must(err)
		must(engine.Apply(ctx, p, t, engine.Options{Backout: bo}, engine.ApplyOptions{Workers: 2 * engine.DefaultVOSSWorkers, Journal: j}))
		must(j.Close(true))
		return time.Since(s), t.CUPILimiter.Stats().Requests, p.Summary()
	}
	plan := func(path string) func(*engine.Targets) (*engine.Plan, error) {
		rows := rowsOf(path)
		return func(t *engine.Targets) (*engine.Plan, error) { return engine.MakePlan(ctx, rows, t, engine.Options{}) }
	}
	_, _, sum := apply(plan(base), nil)
	if sum.Failed > 0 {
		panic(fmt.Sprintf("setup: %d failed", sum.Failed))
	}
	r.CUPI.SetServiceTime(service)

	boPath := filepath.Join(dir, "change.backout.json")
	bo, err := engine.CreateBackout(boPath, engine.BackoutHeader{Command: "apply"})
	must(err)
	changeWall, changeReqs, changeSum := apply(plan(change), bo)
	must(bo.Close())
	st, err := os.Stat(boPath)
	must(err)

	revPath := filepath.Join(dir, "revert.backout.json")
	rbo, err := engine.CreateBackout(revPath, engine.BackoutHeader{Command: "apply --revert"})
	must(err)
	revWall, revReqs, revSum := apply(func(t *engine.Targets) (*engine.Plan, error) {
		bf, err := engine.ReadBackout(boPath)
		if err != nil {
			return nil, err
		}
		return engine.MakeRevertPlan(ctx, bf, t, engine.Options{}, false)
	}, rbo)
	must(rbo.Close())
	rst, err := os.Stat(revPath)
	must(err)

	// The same change again with the journal only: what the back-out costs.
	plainWall, plainReqs, plainSum := apply(plan(change), nil)

	floor := func(reqs int) time.Duration { return time.Duration(reqs) * service / 5 }
	fmt.Printf("\n## revert, %d users changed (rename + lock: VOSS update + CUPI credential update each), CUPI 5 slots, %v service time\n\n", n, service)
	fmt.Printf("| run | writes | CUPI requests | wall time | CUPI floor | of the floor | back-out file |\n|---|---|---|---|---|---|---|\n")
	row := func(name string, s engine.Summary, reqs int, wall time.Duration, size int64) {
		fmt.Printf("| %s | %d | %d | %v | %v | %.0f%% | %.1f MiB (%d bytes/user) |\n", name, s.Done, reqs, wall.Round(time.Millisecond),
			floor(reqs).Round(time.Millisecond), 100*floor(reqs).Seconds()/wall.Seconds(), float64(size)/(1<<20), size/int64(n))
	}
	row("apply (plan + apply), journal and back-out file", changeSum, changeReqs, changeWall, st.Size())
	fmt.Printf("| same apply, journal only (baseline) | %d | %d | %v | %v | %.0f%% | |\n", plainSum.Done, plainReqs, plainWall.Round(time.Millisecond),
		floor(plainReqs).Round(time.Millisecond), 100*floor(plainReqs).Seconds()/plainWall.Seconds())
	row("apply --revert (read back-out + plan + apply), journal and back-out file", revSum, revReqs, revWall, rst.Size())
	fmt.Printf("\nfailed: change %d, revert %d, baseline %d\n", changeSum.Failed, revSum.Failed, plainSum.Failed)
}
