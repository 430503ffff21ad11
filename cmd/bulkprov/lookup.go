package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/xuri/excelize/v2"

	"github.com/bulkprov/bulkprov/internal/report"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// lookups are what bulkprov list shows, each from the targets that have it.
var lookups = []string{"roles", "hierarchies", "policies", "templates"}

func runList(args []string, io streams) error {
	var tf targetFlags
	var hierarchy string
	fs := newFlagSet("list", "[TARGETS] roles|hierarchies|policies|templates", `
List, read-only, the names a config and a sheet refer to, one per line as
TARGET, two spaces, NAME:
  roles        VOSS roles at --hierarchy, and the Unity Connection roles
  hierarchies  the VOSS hierarchy nodes
  policies     the Unity Connection credential policies (credentialPolicies)
  templates    the Unity Connection user templates (cupiUserTemplate)

Example:
  bulkprov list --voss https://voss.example --cupi https://cuc.example \
      --hierarchy sys.hcs.CS-P.CS-NB.AAAGlobal roles`, io)
	registerOnly(fs, &tf, "voss", "cupi", "sim", "ca-file", "timeout")
	fs.StringVar(&hierarchy, "hierarchy", "", "VOSS hierarchy whose roles to list (roles only)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !contains(lookups, pos[0]) {
		return usageError("list", "name one of %s", strings.Join(lookups, ", "))
	}
	what := pos[0]
	if what == "roles" && hierarchy == "" && (tf.voss != "" || tf.sim) {
		return usageError("list", "roles needs --hierarchy (VOSS roles are visible per hierarchy)")
	}
	conn, err := tf.connect(nil, io.err)
	if err != nil {
		return err
	}
	defer conn.close()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	t := conn.targets
	var lines []string
	add := func(target string, names []string) {
		sort.Strings(names)
		for _, n := range names {
			lines = append(lines, target+"  "+n)
		}
	}
	cupiNames := func(field string, list func(context.Context) ([]cupi.Object, error)) error {
		objs, err := list(ctx)
		if err != nil {
			return planError(err)
		}
		var names []string
		for _, o := range objs {
			names = append(names, o[field])
		}
		add("cupi", names)
		return nil
	}
	needs := func(target string, ok bool) error {
		if !ok {
			return usageError("list", "%s lives on %s: give --%s URL", what, map[string]string{"voss": "VOSS", "cupi": "Unity Connection"}[target], target)
		}
		return nil
	}
	switch what {
	case "roles":
		if t.VOSS == nil && t.CUPI == nil {
			return usageError("list", "give --voss URL and/or --cupi URL")
		}
		if t.VOSS != nil {
			names, err := t.VOSS.Roles(ctx, hierarchy)
			if err != nil {
				return planError(err)
			}
			add("voss", names)
		}
		if t.CUPI != nil {
			if err := cupiNames("RoleName", t.CUPI.Roles); err != nil {
				return err
			}
		}
	case "hierarchies":
		if err := needs("voss", t.VOSS != nil); err != nil {
			return err
		}
		nodes, err := t.VOSS.HierarchyNodes(ctx)
		if err != nil {
			return planError(err)
		}
		var names []string
		for n := range nodes {
			names = append(names, n)
		}
		add("voss", names)
	case "policies":
		if err := needs("cupi", t.CUPI != nil); err != nil {
			return err
		}
		if err := cupiNames("DisplayName", t.CUPI.CredentialPolicies); err != nil {
			return err
		}
	case "templates":
		if err := needs("cupi", t.CUPI != nil); err != nil {
			return err
		}
		if err := cupiNames("Alias", t.CUPI.UserTemplates); err != nil {
			return err
		}
	}
	for _, l := range lines {
		fmt.Fprintln(io.out, l)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func runTemplate(args []string, io streams) error {
	var out string
	fs := newFlagSet("template", "MODEL --out FILE.xlsx", `
Write a blank bulk-load sheet for MODEL with every column bulkprov knows:
the entity row, the column names, and group and human titles in rows 3-4.
Fill in rows from row 5 on; validate, plan and apply read it as it is.

Models: `+strings.Join(schema.Names(), ", ")+`

Example:
  bulkprov template data/User --out users.xlsx`, io)
	fs.StringVar(&out, "out", "", "the workbook to write (`FILE.xlsx`)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("template", "name one model: %s", strings.Join(schema.Names(), ", "))
	}
	m := schema.Get(pos[0])
	switch {
	case m == nil:
		return usageError("template", "%v", schema.ErrUnknownModel(pos[0]))
	case out == "":
		return usageError("template", "--out FILE.xlsx is required")
	}
	if err := checkOutputs(outputPath{flag: "--out", path: out, exts: []string{".xlsx"}}); err != nil {
		return err
	}
	cols := []string{"# Action"}
	instr := "entity: " + m.Name
	if m.Target == "voss" {
		cols = append(cols, "# Hierarchy Node")
		instr += "; hierarchy: "
	}
	cols = append(cols, "# Comment")
	for _, p := range m.Paths() {
		if f, _ := m.Lookup(p); f != nil && !f.ReadOnly {
			cols = append(cols, p)
		}
	}
	groups, titles := make([]any, len(cols)), make([]any, len(cols))
	names := make([]any, len(cols))
	for i, c := range cols {
		names[i] = c
		if strings.HasPrefix(c, "#") {
			groups[i], titles[i] = "Base", c
			continue
		}
		groups[i], titles[i] = "Attributes", humanTitle(c)
	}
	f := excelize.NewFile()
	defer f.Close()
	sheet := strings.ReplaceAll(m.Name, "/", "_")
	_ = f.SetSheetName("Sheet1", sheet)
	for i, row := range [][]any{{instr}, names, groups, titles} {
		ref, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, ref, &row); err != nil {
			return fail(exitInvalid, "%v", err)
		}
	}
	if err := report.SetDimension(f, sheet, len(cols), 4); err != nil {
		return fail(exitInvalid, "%v", err)
	}
	if err := writeWorkbook(out, f); err != nil {
		return fail(exitRowsFailed, "--out %s: %v", out, err)
	}
	fmt.Fprintf(io.err, "wrote a blank %s sheet with %d columns to %s\n", m.Name, len(cols), out)
	return nil
}

// humanTitle is a column's row-4 title: "account_information.locked" is
// "Account Information / Locked".
func humanTitle(path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		words := strings.Fields(strings.ReplaceAll(p, "_", " "))
		for j, w := range words {
			words[j] = strings.ToUpper(w[:1]) + w[1:]
		}
		parts[i] = strings.Join(words, " ")
	}
	return strings.Join(parts, " / ")
}

// writeWorkbook saves f at path atomically, 0600.
func writeWorkbook(path string, f *excelize.File) error {
	return report.WriteAtomic(path, func(w io.Writer) error { return f.Write(w) })
}
