// Package engine plans and applies: it reads the current state of the
// targets in bulk, diffs it field by field against what the rows want (the
// plan), and executes a plan through a bounded, throttle-aware worker pool
// with retries and a crash-safe checkpoint journal.
//
// # Rooms
//
// The engine is six packages whose imports only go down (rooms_test.go
// holds the layering):
//
//   - plan (internal/engine/plan): the vocabulary every room shares —
//     actions, statuses, changes, sources, fingerprints, write-only values
//     and the field-tree helpers — with no behaviour of the run.
//   - pace (internal/engine/pace): keeps each target at the concurrency and
//     rate it bears (AIMD limiter), retries what the server asks to retry,
//     and counts every request.
//   - store (internal/engine/store): the files a run keeps — checkpoint
//     journal, run state of applied secrets, back-out file — knowing the
//     formats, not the kinds.
//   - kinds (internal/engine/kinds): everything about each kind of object,
//     one type in one file behind one interface (kinds.Kind) — what to
//     read, diff, write, proof of a lost answer, before-image, undo and
//     undo order — with the targets, options and state they work with.
//     Outside its kind files no code names a kind (rooms_test.go holds
//     that too).
//   - engine (this package): the core that plans and applies over
//     kinds.Kind alone — the plan, the dispatchers per target, the
//     checkpoint and back-out lines of each write, the revert plan, and
//     Run, the life cycle of one apply (open, settle, execute, close). It
//     names no target client and switches on no kind.
//   - dial (internal/engine/dial): builds the Targets — each client with
//     its credentials, limiter and pacing — for cmd, the simulators'
//     seeding and bulkbench; beside the core, which never imports it.
//
// The targets are behind kinds.VOSSAPI and kinds.CUPIAPI
// (kinds/targetapi.go), whose methods say what is idempotent and which
// errors are retried.
//
// # One row, from file to HTTP write
//
// Following a workbook row that creates a Unity Connection user:
//
//  1. loader.Read (loader/) reads the row as a loader.Record; the
//     checker refuses a bad one before anything is planned.
//  2. transform.Map (transform/transform.go) turns the record into a Row of
//     Wants: the VOSS user, the CUPI user (Kind "cupi/user", with its
//     template and create fields), its roles and credentials.
//  3. cmd/bulkprov's apply builds the Targets with dial.New and runs an
//     engine.Run (run.go) over the rows: Open, Settle, then Execute, which
//     calls PlanAndApply (plan.go).
//  4. kinds.ReadState (kinds/read.go) reads in bulk what the rows name:
//     scanNamed asks each want's kind what it needs (Kind.Name), readCUPI
//     lists the cluster's users page by page under the cluster's
//     pace.Limiter, and readPerUser runs the per-user reads the kinds ask
//     for (Kind.PerUser).
//  5. diffRows (plan.go) hands each want to kinds.Diff (kinds/diff.go) and
//     so to its kind: cupiUserKind.Diff (kinds/kind_cupiuser.go) finds no
//     such user and plans an Op with Action Create, its Changes, its
//     Fingerprint. kinds.Warnings (Kind.Warn) then says what is not a
//     failure — for the row's VOSS create, the same user under another
//     hierarchy (looked up by kinds/elsewhere.go) or its alias held by
//     another CUPI user — into the plan's Warnings, beside its operations.
//  6. The applier (apply.go) groups the row's CUPI operations into one
//     chain — the user before its roles and credentials — and queues it on
//     the cluster's dispatcher, which runs chains up to the limiter's cap.
//  7. runOp (apply.go) runs the kind's write-time extras (Kind.Prepare),
//     then commitIntent appends what undoes the write to the back-out file
//     (backoutIntent, backout.go, through store.Backout.Buffer) and the
//     intent, carrying that line, to the journal (journalIntent,
//     checkpoint.go, through store.Journal.Buffer), and makes the journal
//     durable in a group commit shared with every write that appends
//     meanwhile, the back-out file written in the same round
//     (store.SyncCarried, store/commit.go), before anything is sent.
//  8. execute (apply.go) sends the write under pace.Retry.Do and the
//     cluster's limiter: cupiUserKind.Write calls CUPIAPI.CreateUser, that
//     is targets/cupi's Client.CreateUser, which POSTs
//     /vmrest/users?templateAlias=T. A lost answer is not resent:
//     Kind.Verify reads (FindUser) whether the user exists.
//  9. The outcome goes to the journal (journalOutcome) and the back-out
//     file (backoutOutcome); the run state remembers the keyed hash of
//     each secret sent, so the next run does not send it again.
package engine
