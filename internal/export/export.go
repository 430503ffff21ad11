// Package export reads instances from a target and writes them in a
// format bulkprov's loader reads back: a bulk-load workbook (.xlsx) in the
// VOSS block layout, or a VOSS JSON export (.zip). Reads are paged and the
// workbook is streamed, so memory stays bounded. Secrets cannot be exported:
// the servers never return them.
package export

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/xuri/excelize/v2"

	json "github.com/bulkprov/bulkprov/internal/jsonx"
	"github.com/bulkprov/bulkprov/internal/report"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// Item is one exported instance: its hierarchy and field tree.
type Item struct {
	Hierarchy string
	Pkid      string
	Data      map[string]any
}

// Source yields the instances of one model.
type Source func(ctx context.Context, fn func(Item) error) error

// VOSS returns a source listing model under hierarchy (and below) and
// fetching full instances by bulk export.
func VOSS(c *voss.Client, model, hierarchy string) Source {
	return func(ctx context.Context, fn func(Item) error) error {
		// The hierarchy nodes place an instance that names only its
		// parent node (seed 002); a server that does not list them still
		// exports, with the hierarchies its answers give.
		_, _ = c.HierarchyNodes(ctx)
		var ids []string
		// Where each instance lives, from its list summary: an instance
		// read by GET (seed 002) or an export item need not say.
		where := map[string]string{}
		if err := c.List(ctx, model, hierarchy, [2]string{}, func(s voss.Summary) error {
			ids = append(ids, s.Pkid)
			if s.Hierarchy != "" {
				where[s.Pkid] = s.Hierarchy
			}
			return nil
		}); err != nil {
			return err
		}
		return c.Export(ctx, model, hierarchy, ids, func(in voss.Instance) error {
			h := in.Hierarchy
			if h == "" {
				h = where[in.Pkid]
			}
			return fn(Item{Hierarchy: h, Pkid: in.Pkid, Data: clean(schema.Get(model).Root, in.Data)})
		})
	}
}

// clean keeps the fields the schema knows and a person may write: no
// secrets, nothing read-only.
func clean(f *schema.Field, data map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range data {
		c := f.Child(k)
		if c == nil || c.Secret || c.ReadOnly {
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			if sub := clean(c, t); len(sub) > 0 {
				out[c.Name] = sub
			}
		case []any:
			var arr []any
			for _, el := range t {
				if m, ok := el.(map[string]any); ok {
					arr = append(arr, clean(c, m))
				}
			}
			if len(arr) > 0 {
				out[c.Name] = arr
			}
		default:
			out[c.Name] = v
		}
	}
	return out
}

// CUPIUsers returns a source of CUPI users with their roles (one request
// per user for the roles, as CUPI has no bulk read of them).
func CUPIUsers(c *cupi.Client) Source {
	return func(ctx context.Context, fn func(Item) error) error {
		var users []cupi.Object
		if err := c.ListUsers(ctx, func(u cupi.Object) error { users = append(users, u); return nil }); err != nil {
			return err
		}
		for _, u := range users {
			urs, err := c.UserRoles(ctx, u["ObjectId"])
			if err != nil {
				return err
			}
			var names []string
			for _, ur := range urs {
				names = append(names, ur["RoleName"])
			}
			sort.Strings(names)
			data := map[string]any{"Roles": strings.Join(names, ";")}
			for _, k := range []string{"Alias", "DtmfAccessId", "FirstName", "LastName", "DisplayName", "EmailAddress"} {
				if v := u[k]; v != "" {
					data[k] = v
				}
			}
			if err := fn(Item{Pkid: u["ObjectId"], Data: data}); err != nil {
				return err
			}
		}
		return nil
	}
}

// CUPIAuthz returns a source of authorization servers.
func CUPIAuthz(c *cupi.Client) Source {
	return func(ctx context.Context, fn func(Item) error) error {
		list, err := c.AuthzServers(ctx)
		if err != nil {
			return err
		}
		for _, a := range list {
			data := map[string]any{}
			for _, k := range []string{"DisplayName", "ServerNodeAddress", "Port", "ServerUsername", "IgnoreCertificateError"} {
				if v := a[k]; v != "" {
					data[k] = v
				}
			}
			if err := fn(Item{Pkid: a["ObjectId"], Data: data}); err != nil {
				return err
			}
		}
		return nil
	}
}

// Write exports the items of src as model into path (.xlsx or .zip) and
// returns how many it wrote.
func Write(ctx context.Context, path, model, hierarchy string, src Source) (int, error) {
	m := schema.Get(model)
	if m == nil {
		return 0, schema.ErrUnknownModel(model)
	}
	switch {
	case strings.HasSuffix(strings.ToLower(path), ".xlsx"):
		return writeXLSX(ctx, path, m, hierarchy, src)
	case strings.HasSuffix(strings.ToLower(path), ".zip"):
		return writeZip(ctx, path, m, src)
	}
	return 0, fmt.Errorf("--out %s: use .xlsx (bulk-load workbook) or .zip (JSON export)", path)
}

func leaves(prefix string, v any, fn func(path string, v any)) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			leaves(join(prefix, k), x, fn)
		}
	case []any:
		for i, x := range t {
			leaves(fmt.Sprintf("%s.[%d]", prefix, i), x, fn)
		}
	default:
		fn(prefix, v)
	}
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// writeXLSX spools items to a temporary JSON-lines file to learn the
// columns, then streams the workbook: one block, base columns first.
func writeXLSX(ctx context.Context, path string, m *schema.Model, hierarchy string, src Source) (int, error) {
	spool, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	bw := bufio.NewWriter(spool)
	enc := json.NewEncoder(bw)
	cols := map[string]bool{}
	n := 0
	if err := src(ctx, func(it Item) error {
		leaves("", it.Data, func(p string, _ any) { cols[p] = true })
		n++
		return enc.Encode(it)
	}); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	names := make([]string, 0, len(cols))
	for c := range cols {
		names = append(names, c)
	}
	keyFirst := func(s string) bool { return s == m.Key }
	sort.Slice(names, func(i, j int) bool {
		if keyFirst(names[i]) != keyFirst(names[j]) {
			return keyFirst(names[i])
		}
		return names[i] < names[j]
	})
	f := excelize.NewFile()
	defer f.Close()
	sheet := strings.ReplaceAll(m.Name, "/", "_")
	_ = f.SetSheetName("Sheet1", sheet)
	instr := "entity: " + m.Name
	if m.Hierarchical && hierarchy != "" {
		instr += "; hierarchy: " + hierarchy
	}
	base := []string{"# Action"}
	if m.Hierarchical {
		base = append(base, "# Hierarchy Node")
	}
	header := append(append([]string{}, base...), names...)
	// The used range is declared before the stream's first row (readers
	// that trust <dimension> see no more): 4 header rows and one row an item.
	if err := report.SetDimension(f, sheet, len(header), 4+n); err != nil {
		return 0, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return 0, err
	}
	row := func(r int, vals []any) error {
		ref, _ := excelize.CoordinatesToCellName(1, r)
		return sw.SetRow(ref, vals)
	}
	asAny := func(ss []string) []any {
		out := make([]any, len(ss))
		for i, s := range ss {
			out[i] = s
		}
		return out
	}
	if err := row(1, []any{instr}); err != nil {
		return 0, err
	}
	_ = row(2, asAny(header))
	_ = row(3, nil)
	_ = row(4, asAny(header))
	if _, err := spool.Seek(0, 0); err != nil {
		return 0, err
	}
	dec := json.NewDecoder(bufio.NewReader(spool))
	dec.UseNumber()
	for r := 5; dec.More(); r++ {
		var it Item
		if err := dec.Decode(&it); err != nil {
			return 0, err
		}
		vals := map[string]any{}
		leaves("", it.Data, func(p string, v any) { vals[p] = v })
		out := []any{"add"}
		if m.Hierarchical {
			out = append(out, it.Hierarchy)
		}
		for _, c := range names {
			v, ok := vals[c]
			switch t := v.(type) {
			case bool:
				out = append(out, t)
			case nil:
				if ok {
					out = append(out, " ")
				} else {
					out = append(out, nil)
				}
			case string:
				if t == "" {
					t = " " // a single space means "empty" to the loader
				}
				out = append(out, excelize.Cell{Value: t})
			default:
				out = append(out, fmt.Sprint(t))
			}
		}
		if err := row(r, out); err != nil {
			return 0, err
		}
	}
	if err := sw.Flush(); err != nil {
		return 0, err
	}
	out, err := createOutput(path)
	if err != nil {
		return 0, err
	}
	if _, err := f.WriteTo(out); err != nil {
		out.Close()
		return 0, err
	}
	return n, out.Close()
}

// createOutput creates (or truncates) an output file, never through a
// symbolic link: a link planted at the path is refused, not followed.
func createOutput(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o666)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link; bulkprov does not write through links", path)
	}
	return f, err
}

func writeZip(ctx context.Context, path string, m *schema.Model, src Source) (int, error) {
	out, err := createOutput(path)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	name := "export_" + time.Now().UTC().Format("2006-01-02_15:04:05.000000") + ".json"
	w, err := zw.Create(name)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	n := 0
	_, _ = bw.WriteString("[\n")
	err = src(ctx, func(it Item) error {
		key, _ := it.Data[m.Key].(string)
		meta := map[string]any{"model_type": m.Name, "pkid": it.Pkid, "business_key": map[string]any{m.Key: key}}
		if m.Hierarchical {
			meta["hierarchy"] = it.Hierarchy
			meta["business_key"].(map[string]any)["hierarchy"] = it.Hierarchy
		}
		b, err := json.Marshal(map[string]any{"meta": meta, "data": it.Data})
		if err != nil {
			return err
		}
		if n > 0 {
			_, _ = bw.WriteString(",\n")
		}
		n++
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return 0, err
	}
	_, _ = bw.WriteString("\n]\n")
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return n, out.Close()
}
