package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/simserve"
	"github.com/bulkprov/bulkprov/targets/voss/vossload"
)

// When the checkpoint's disk fills up mid-run, the run stops cleanly with
// a fatal error, and no write was sent without its intent on disk.
func TestCheckpointDiskFull(t *testing.T) {
	r, err := simserve.Start(simserve.Options{User: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	cr := targets.Credentials{User: "u", Password: "p"}
	tg := &Targets{VOSS: vossload.New(r.URL, hc, cr), CUPI: cupi.New(r.URL, hc, cr), VOSSLimiter: NewLimiter("voss", 4), CUPILimiter: NewLimiter("cupi", 4), ID: "t"}
	var rows []Row
	for i := 0; i < 50; i++ {
		alias := fmt.Sprintf("a%d", i)
		rows = append(rows, Row{Source: Source{File: "f", Row: i + 5}, Model: "cupi/User", Wants: []Want{{
			Target: "cupi", Kind: KindCUPIUser, Key: alias, Alias: alias, CUPI: &CUPIWant{Template: DefaultTemplate,
				CreateFields: Pairs{{Name: "Alias", Value: alias}, {Name: "DtmfAccessId", Value: fmt.Sprintf("1%03d", i)}}}}}})
	}
	ctx := context.Background()
	p, err := MakePlan(ctx, rows, tg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := OpenJournal(filepath.Join(t.TempDir(), "j"), "b", false)
	if err != nil {
		t.Fatal(err)
	}
	synced := 0
	j.WrapWrite(func(write func([]byte) (int, error)) func([]byte) (int, error) {
		return func(b []byte) (int, error) {
			if synced >= 10 {
				return 0, syscall.ENOSPC
			}
			synced++
			return write(b)
		}
	})
	err = Apply(ctx, p, tg, Options{}, ApplyOptions{Workers: 4, Journal: j})
	var fe *FatalError
	if !errors.As(err, &fe) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Apply = %v, want a fatal disk-full error", err)
	}
	_ = j.Close(false)
	done, skipped := 0, 0
	for _, op := range p.Ops {
		switch op.Status {
		case Done:
			done++
		case Skipped:
			skipped++
		}
	}
	if writes := r.CUPI.Writes.Total(); writes > done+4 || skipped == 0 {
		t.Fatalf("%d writes reached the server, %d ops done, %d skipped: writes without a durable intent", writes, done, skipped)
	}
}
