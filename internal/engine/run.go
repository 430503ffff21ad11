package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/bulkprov/bulkprov/targets"
)

// Run is one apply's life cycle over its checkpoint journal, run state and
// back-out file, shared by bulkprov apply, apply --revert and bulkbench:
//
//	r := &engine.Run{Targets: t, Options: o, Journal: j, State: rs}
//	defer r.Close()       // back-out file, run state, journal, in that order
//	if err := r.Open(); err != nil { ... }  // restore, open one-time passwords
//	if err := r.Settle(ctx); err != nil { ... } // what an interrupted run left
//	p, err := r.Execute(ctx, rows, nil)     // plan and apply
//	...
//	r.Complete()          // the journal ends as a finished run
//
// A Run is used by one goroutine; its methods are called in that order,
// each once.
type Run struct {
	Targets *Targets
	Options Options
	// Apply are the options of the apply; its Journal is the run's.
	Apply ApplyOptions
	// Journal is the checkpoint (nil: none); JournalCreated says this run
	// created its file, so a run refused before its first write removes it.
	Journal        *Journal
	JournalCreated bool
	// State is the run state of applied secrets (nil: none), saved by
	// Close once Open has restored it.
	State *RunState
	// OneTimePath is where Options.OneTime writes the one-time passwords.
	OneTimePath string
	// BeforeWrites, when set, is called once with the plan the first
	// write needs, before it: it may refuse the run (nothing is written
	// then, and Refused says so) and may open the back-out file
	// (Options.Backout), which Close closes.
	BeforeWrites func(*Plan, *Options) error

	opened, complete, refused bool
	backout                   *Backout
}

// Open restores the run state from the journal an interrupted run left
// and opens the one-time password file. It writes nothing to a target.
func (r *Run) Open() error {
	if r.Journal != nil {
		r.Journal.Restore(r.State)
		r.Options.Landed = r.Journal.Landed()
	}
	if r.Options.OneTime != nil {
		if err := r.Options.OneTime.Open(r.OneTimePath, r.Journal != nil && r.Journal.Resumed); err != nil {
			return err
		}
	}
	r.opened = true
	return nil
}

// Settle settles what an interrupted run left pending in the journal:
// each intent without an outcome is verified against its target (never
// resent blindly). An error stops the run before it plans.
func (r *Run) Settle(ctx context.Context) error {
	if err := ResolvePending(ctx, r.Journal, r.Targets, r.Options); err != nil {
		r.complete = r.idle(err)
		return err
	}
	return nil
}

// Execute plans and applies. With makePlan nil the rows are planned and applied at once
// (PlanAndApply: a target's writes start once its part of the plan is
// made); else makePlan makes the whole plan first and BeforeWrites checks
// it before the first write.
//
// A nil plan means nothing was applied: BeforeWrites refused it (Refused),
// or planning failed. Otherwise the error is the apply's.
func (r *Run) Execute(ctx context.Context, rows []Row, makePlan func(context.Context, Options) (*Plan, error)) (*Plan, error) {
	r.Apply.Journal = r.Journal
	var startErr error
	before := func(p *Plan, o *Options) error {
		if r.BeforeWrites != nil {
			startErr = r.BeforeWrites(p, o)
		}
		r.backout = o.Backout
		return startErr
	}
	if makePlan == nil {
		p, err := PlanAndApply(ctx, rows, r.Targets, r.Options, r.Apply, before)
		if p == nil {
			if startErr != nil {
				r.refused = true
				return nil, startErr
			}
			r.complete = r.idle(err)
		}
		return p, err
	}
	p, err := makePlan(ctx, r.Options)
	if err != nil {
		r.complete = r.idle(err)
		return nil, err
	}
	o := r.Options
	if err := before(p, &o); err != nil {
		r.refused = true
		return nil, err
	}
	return p, Apply(ctx, p, r.Targets, o, r.Apply)
}

// idle reports whether a run that stopped before its first write because
// a target refused access can close its journal as complete: a refusal is
// not an interruption to resume, and the journal must not hold the next
// run to this one's inputs.
func (r *Run) idle(err error) bool {
	var fe *FatalError
	return r.Journal != nil && errors.As(err, &fe) && targets.AccessDenied(fe.Err) && len(r.Journal.Pending) == 0
}

// Refused reports whether BeforeWrites refused the run.
func (r *Run) Refused() bool { return r.refused }

// Complete marks the run finished: Close ends the journal as complete, so
// the next run starts afresh instead of resuming.
func (r *Run) Complete() { r.complete = true }

// Close closes the back-out file, saves the run state (whatever ended the
// run, what it learnt of applied secrets is kept) and closes the journal:
// as complete when the run was, or was refused before its first write (a
// journal this run created is then removed: nothing to resume). Every
// error is returned, joined.
func (r *Run) Close() error {
	var errs []error
	if err := r.backout.Close(); err != nil {
		errs = append(errs, fmt.Errorf("back-out file: %w", err))
	}
	if r.opened && r.State != nil {
		if err := r.State.Save(); err != nil {
			errs = append(errs, fmt.Errorf("saving run state: %w", err))
		}
	}
	if j := r.Journal; j != nil {
		complete := r.complete || (r.refused && !j.Resumed)
		if err := j.Close(complete); err != nil {
			errs = append(errs, err)
		}
		if r.refused && !j.Resumed && r.JournalCreated {
			_ = os.Remove(j.Path)
		}
	}
	return errors.Join(errs...)
}
