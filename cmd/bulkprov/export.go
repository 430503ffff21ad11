package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/export"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/transform"
)

func runExport(args []string, io streams) error {
	var tf targetFlags
	var model, out, hierarchy string
	fs := newFlagSet("export", "[TARGETS] --model MODEL --out FILE [flags]", `
Read instances from a target and write them as a bulk-load workbook (.xlsx)
or a VOSS JSON export (.zip) that plan and apply read back: a plan of an
export against the system it came from shows no changes. Passwords, PINs
and server passwords cannot be exported (the servers never return them).

Models: data/User and relation/HcsAdminUserREL (VOSS, under --hierarchy and
below; without it, under --config's defaultHierarchy, else the whole tree
from sys), cupi/User (with their roles) and cupi/AuthzServer (Unity
Connection).

Example:
  bulkprov export --voss https://voss.example --model data/User \
      --hierarchy sys.hcs.CS-P.CS-NB.AAAGlobal --out tenant-users.xlsx`, io)
	registerOnly(fs, &tf, "voss", "cupi", "sim", "ca-file", "timeout", "config", "voss-rate")
	acceptTargetFlags(fs, "state-dir", "wait", "workers")
	var cluster string
	fs.StringVar(&cluster, "cluster", "", "for CUPI models: the Unity Connection cluster of --config's cupiClusters to export from (default: --cupi)")
	fs.StringVar(&model, "model", "", "model to export: data/User, relation/HcsAdminUserREL, cupi/User or cupi/AuthzServer")
	fs.StringVar(&out, "out", "", "output file: .xlsx or .zip")
	fs.StringVar(&hierarchy, "hierarchy", "", "VOSS hierarchy to export from (and below); default: --config's defaultHierarchy, else sys (everything)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	m := schema.Get(model)
	switch {
	case model == "":
		return usageError("export", "--model MODEL is required (one of %s)", strings.Join(schema.Names(), ", "))
	case m == nil:
		return usageError("export", "--model: %v", schema.ErrUnknownModel(model))
	case out == "":
		return usageError("export", "--out FILE is required (.xlsx or .zip)")
	}
	if err := checkOutputs(append([]outputPath{{flag: "--out", path: out, exts: []string{".xlsx", ".zip"}}},
		append(readPaths("--config", tf.config), readPaths("--ca-file", tf.caFile)...)...)...); err != nil {
		return err
	}
	cfg, _, err := transform.LoadConfig(tf.config)
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	if cluster != "" && cluster != engine.DefaultCluster && cfg.CUPIClusters[cluster].URL == "" {
		return fail(exitInvalid, "--cluster %s: no such cluster in --config's cupiClusters", cluster)
	}
	conn, err := tf.connect(cfg, io.err)
	if err != nil {
		return err
	}
	defer conn.close()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	var src export.Source
	cuc := conn.cupiOf(cluster)
	switch {
	case m.Target == "voss":
		if conn.voss == nil {
			return fail(exitInvalid, "%s lives on VOSS: give --voss URL", model)
		}
		if hierarchy == "" {
			// cli.md's synopsis names no --hierarchy: the config's
			// default hierarchy, else the whole tree from its root.
			hierarchy = cfg.DefaultHierarchy
		}
		if hierarchy == "" {
			hierarchy = "sys"
		}
		src = export.VOSS(conn.voss, m.Name, hierarchy)
	case cuc == nil:
		return fail(exitInvalid, "%s lives on Unity Connection: give --cupi URL (or --cluster NAME)", model)
	case m.Name == schema.CUPIUser:
		src = export.CUPIUsers(cuc)
	default:
		src = export.CUPIAuthz(cuc)
	}
	n, err := export.Write(ctx, out, m.Name, hierarchy, src)
	if err != nil {
		return planError(err)
	}
	fmt.Fprintf(io.err, "exported %d %s instance(s) to %s\n", n, m.Name, out)
	return nil
}
