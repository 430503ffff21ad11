// Package engine plans and applies: it reads the current state of the
// targets in bulk, diffs it field by field against what the rows want (the
// plan), and executes a plan through a bounded, throttle-aware worker pool
// with retries and a crash-safe checkpoint journal.
//
// # Rooms
//
// The engine is four packages whose imports only go down (rooms_test.go
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
//   - engine (this package): the core that reads, plans and applies over
//     the kind interface (kinds.go), and the kinds themselves, one file
//     each (kind_voss.go, kind_cupiuser.go, kind_userrole.go,
//     kind_credential.go, kind_authz.go). Outside those files no code
//     names a kind (rooms_test.go holds that too).
//
// The targets are behind VOSSAPI and CUPIAPI (targetapi.go), whose
// methods say what is idempotent and which errors are retried.
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
//  3. cmd/bulkprov's apply calls PlanAndApply (plan.go) with the rows and
//     the Targets the command line built.
//  4. readState (read.go) reads in bulk what the rows name: scanNamed asks
//     each want's kind what it needs (kind.name), readCUPI lists the
//     cluster's users page by page under the cluster's pace.Limiter, and
//     readPerUser runs the per-user reads the kinds ask for (kind.perUser).
//  5. diffRows and diffWant (plan.go, diff.go) hand each want to its kind:
//     cupiUserKind.diff (kind_cupiuser.go) finds no such user and plans an
//     Op with Action Create, its Changes, its Fingerprint.
//  6. The applier (apply.go) groups the row's CUPI operations into one
//     chain — the user before its roles and credentials — and queues it on
//     the cluster's dispatcher, which runs chains up to the limiter's cap.
//  7. runOp (apply.go) runs the kind's write-time extras (kind.prepare),
//     then commitIntent appends what undoes the write to the back-out file
//     (backoutIntent, backout.go, through store.Backout.Buffer) and the
//     intent, carrying that line, to the journal (journalIntent,
//     checkpoint.go, through store.Journal.Buffer), and makes the journal
//     durable in a group commit shared with every write that appends
//     meanwhile, the back-out file written in the same round
//     (store.SyncCarried, store/commit.go), before anything is sent.
//  8. execute (apply.go) sends the write under pace.Retry.Do and the
//     cluster's limiter: cupiUserKind.write calls CUPIAPI.CreateUser, that
//     is targets/cupi's Client.CreateUser, which POSTs
//     /vmrest/users?templateAlias=T. A lost answer is not resent:
//     kind.verify reads (FindUser) whether the user exists.
//  9. The outcome goes to the journal (journalOutcome) and the back-out
//     file (backoutOutcome); the run state remembers the keyed hash of
//     each secret sent, so the next run does not send it again.
package engine
