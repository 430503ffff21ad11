package engine_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/cupi/sim"
	"github.com/bulkprov/bulkprov/transform"
)

// summaryUsers is a Unity Connection whose user list holds only a few
// fields of each user (the documents do not say a list item is the whole
// user; GET /vmrest/users/{id} is).
type summaryUsers struct{ *cupi.Client }

func (s summaryUsers) UsersPage(ctx context.Context, page int, fn func(cupi.Object) error) (int, int, error) {
	return s.Client.UsersPage(ctx, page, func(o cupi.Object) error {
		return fn(cupi.Object{"URI": o["URI"], "ObjectId": o["ObjectId"], "Alias": o["Alias"], "DisplayName": o["DisplayName"], "DtmfAccessId": o["DtmfAccessId"]})
	})
}

// A field a row sets that the user list does not carry is read from the
// user itself: it is not planned as a change on every run (and the
// back-out would "restore" it to nothing).
func TestCUPIUserFieldsNotInTheListAreRead(t *testing.T) {
	ts := httptest.NewServer(sim.New(sim.Options{User: "u", Password: "p"}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := cupi.New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, "voicemailusertemplate", cupi.Object{"Alias": "jdoe", "DtmfAccessId": "5001", "EmailAddress": "jdoe@example.com", "FirstName": "J"}); err != nil {
		t.Fatal(err)
	}
	rec := &loader.Record{Model: "cupi/User", Action: loader.Upsert, Loc: loader.Location{File: "t.xlsx", Sheet: "s", Row: 5},
		Fields: map[string]any{"Alias": "jdoe", "DtmfAccessId": "5001", "EmailAddress": "jdoe@example.com", "FirstName": "J"}}
	rows := []transform.Row{transform.Map(rec, &transform.Config{}, transform.Options{})}
	tg := &engine.Targets{CUPI: summaryUsers{c}, CUPILimiter: engine.NewLimiter("cupi", 5), ID: "test"}
	p, err := engine.MakePlan(ctx, rows, tg, engine.Options{RunState: engine.NewMemoryRunState()})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range p.Ops {
		if op.Action != engine.Noop {
			t.Errorf("%s %s: %s %v %s; want noop (the user holds what the row says)", op.Kind, op.Key, op.Action, op.Changes, op.Error)
		}
	}
}
