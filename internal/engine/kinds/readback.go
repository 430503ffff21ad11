package kinds

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/sync/errgroup"

	"github.com/bulkprov/bulkprov/internal/engine/plan"
)

// WrittenOp is an operation whose write is done, for a read-back (apply
// --canary, --verify): the operation, and a credential's TimeChanged as
// read before its set (the proof a write-only value landed, since a
// secret is never read back).
type WrittenOp struct {
	Op         *Op
	TimeBefore string
	HasBefore  bool
}

// NotKept is a field whose value the server did not keep as written:
// dropped, normalised or defaulted.
type NotKept struct {
	Field  string
	Wanted any
	Held   any
	Absent bool // the server holds no such field at all
	// Proof, for a write-only value, says why it was not proven set (it
	// is never read back): TimeChanged did not move.
	Proof string
}

// Words says what the server did with the value, naming the field, the
// value wanted and the value held, and a normalisation as such (e.g.
// `email: wanted "J.Doe@x.com", server holds "j.doe@x.com" (kept
// lower-cased)`).
func (n NotKept) Words() string {
	if n.Proof != "" {
		return n.Field + ": " + n.Proof
	}
	wanted := quote(n.Wanted)
	if n.Absent || n.Held == nil || plan.Norm(n.Held) == "" {
		return fmt.Sprintf("%s: wanted %s, server holds nothing (not kept)", n.Field, wanted)
	}
	s := fmt.Sprintf("%s: wanted %s, server holds %s", n.Field, wanted, quote(n.Held))
	if how := normalised(plan.Norm(n.Wanted), plan.Norm(n.Held)); how != "" {
		s += " (kept " + how + ")"
	}
	return s
}

// NotKeptError is the error of an operation whose values the server did
// not keep: target, kind, key, then each field's words.
func NotKeptError(op *Op, fields []NotKept) string {
	words := make([]string, len(fields))
	for i, f := range fields {
		words[i] = f.Words()
	}
	return fmt.Sprintf("value not kept: %s %s %s: %s", op.Target, op.Kind, op.Key, strings.Join(words, "; "))
}

func quote(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q", plan.Norm(v))
}

// normalised names how held is wanted normalised, or "".
func normalised(wanted, held string) string {
	switch {
	case held == strings.ToLower(wanted):
		return "lower-cased"
	case held == strings.ToUpper(wanted):
		return "upper-cased"
	case strings.EqualFold(held, wanted):
		return "with its case changed"
	case held == strings.TrimSpace(wanted):
		return "with spaces trimmed"
	case squeeze(held) == squeeze(wanted):
		return "with spaces or punctuation changed"
	}
	return ""
}

// squeeze is s lower-cased with spaces and punctuation taken out.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// compareChanges compares the fields op wrote (its changes, never a
// secret) with what get reads from the object held; a field absent from
// it is not kept.
func compareChanges(op *Op, get func(field string) (any, bool)) []NotKept {
	var out []NotKept
	for _, c := range op.Changes {
		if c.Secret || c.New == nil {
			continue
		}
		held, ok := get(c.Field)
		if ok && plan.Same(held, c.New) {
			continue
		}
		out = append(out, NotKept{Field: c.Field, Wanted: c.New, Held: held, Absent: !ok})
	}
	return out
}

// readsBack reports whether a done operation wrote values to read back.
func readsBack(op *Op) bool {
	return op.Status == Done && (op.Action == Create || op.Action == Update) && ObjectID(op) != ""
}

// ReadBack reads back, through their kind, what the done operations ws
// (all of one kind and target) wrote, and returns the fields each did
// not keep.
func ReadBack(ctx context.Context, kind string, ws []WrittenOp, t *Targets, read ReadFunc) (map[*Op][]NotKept, error) {
	return Of(kind).ReadBack(ctx, ws, t, read)
}

// eachAtOnce runs read for each item at once, at most limit at a time
// (each read waits for its target's limiter besides); each returns what
// its item did not keep, gathered by operation. The first error stops it.
func eachAtOnce[T any](items []T, limit int, read func(T) (*Op, []NotKept, error)) (map[*Op][]NotKept, error) {
	var mu sync.Mutex
	out := map[*Op][]NotKept{}
	var g errgroup.Group
	g.SetLimit(max(1, limit))
	for _, it := range items {
		g.Go(func() error {
			op, nk, err := read(it)
			if err != nil || len(nk) == 0 {
				return err
			}
			mu.Lock()
			out[op] = nk
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
