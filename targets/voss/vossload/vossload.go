// Package vossload joins the VOSS client to the loader: a live bulk export
// response is read by the same JSON export reader, under the same limits,
// as an export file given as input. It lives apart from both so that the
// client (and the engine above it) does not depend on the input layer.
package vossload

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// Decode decodes a bulk export response (a JSON export zip, or a lone
// JSON document) with the loader's export reader — the one that reads
// export files given as input — under the same limits. Items without a
// meta.model_type are of model. Any item the reader refuses makes the
// whole response an error.
func Decode(b []byte, model string) ([]voss.Instance, error) {
	name := "export.json"
	if bytes.HasPrefix(b, []byte("PK")) {
		name = "export.zip"
	}
	var out []voss.Instance
	var problems []string
	err := loader.ReadFrom(name, bytes.NewReader(b), int64(len(b)), loader.Options{Model: model, DisplayName: "voss export"},
		func(r *loader.Record) error {
			out = append(out, voss.Instance{Pkid: r.Pkid, Model: r.Model, Hierarchy: r.Hierarchy, Data: r.Fields})
			return nil
		},
		func(p loader.Problem) { problems = append(problems, p.String()) })
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return out, nil
}

// New returns a VOSS client whose bulk exports are read by Decode.
func New(base string, hc *http.Client, creds targets.Credentials) *voss.Client {
	c := voss.New(base, hc, creds)
	c.DecodeExport = Decode
	return c
}
