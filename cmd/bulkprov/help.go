package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// printFlags lists a command's flags the way they are typed, --name VALUE,
// with the usage and any non-zero default.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if f.Usage == "" {
			return // accepted, does nothing here (acceptTargetFlags)
		}
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if m := metavars[f.Name]; m != "" && name == "string" {
			name = m
		}
		switch name {
		case "":
		case "string", "int", "float", "duration", "value", "uint", "int64", "uint64":
			line += " " + strings.ToUpper(name)
		default:
			line += " " + name // named in the usage text: `PLAN.json`
		}
		if def := f.DefValue; def != "" && def != "0" && def != "false" && def != "-1" {
			usage += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// metavars name the value of a string flag in help texts.
var metavars = map[string]string{
	"voss": "URL", "cupi": "URL", "ca-file": "FILE", "config": "FILE", "report": "FILE", "out": "FILE",
	"checkpoint": "FILE", "secrets": "FILE", "one-time-passwords": "FILE", "plan": "FILE", "backout": "FILE",
	"state": "FILE", "seed": "FILE", "model": "MODEL", "hierarchy": "HIERARCHY", "formulas": "MODE", "listen": "ADDR",
	"state-dir": "DIR", "shard": "K/N", "revert": "FILE",
}

// registerOnly registers on fs just the named target flags: a command
// lists only the flags that do something there.
func registerOnly(fs *flag.FlagSet, tf *targetFlags, names ...string) {
	all := flag.NewFlagSet("", flag.ContinueOnError)
	tf.register(all)
	for _, n := range names {
		f := all.Lookup(n)
		if f == nil {
			panic("no target flag " + n)
		}
		fs.Var(f.Value, f.Name, f.Usage)
	}
}

// acceptTargetFlags accepts target flags of cli.md's [TARGETS] that do
// nothing for this command (say, --state-dir for doctor, which keeps no
// state), so that one set of target flags serves every command. They are
// checked like anywhere else and left out of the help text.
func acceptTargetFlags(fs *flag.FlagSet, names ...string) {
	var tf targetFlags
	all := flag.NewFlagSet("", flag.ContinueOnError)
	tf.register(all)
	for _, n := range names {
		f := all.Lookup(n)
		if f == nil {
			panic("no target flag " + n)
		}
		fs.Var(f.Value, f.Name, "")
	}
}

// usageError is a bad-usage error with a hint where the flags are
// explained, instead of the whole usage text before it.
func usageError(command, format string, args ...any) error {
	return fail(exitInvalid, "%s (see: bulkprov %s --help)", fmt.Sprintf(format, args...), command)
}

// applyHint is the command that executes a saved plan against the targets
// and config it was made with.
//
// Every flag that shapes the plan from the inputs is repeated (--model and
// --hierarchy for a CSV, --secrets, --exact-roles, --shard, --formulas):
// when the input files are at hand apply --plan reads them again, and
// without those flags it would plan something else and refuse.
func applyHint(tf *targetFlags, in *inputFlags, plan string) string {
	args := []string{"bulkprov", "apply", "--plan", shellQuote(plan)}
	if tf.sim {
		return strings.Join(args, " ") + " --voss URL --cupi URL (the --sim simulators lived only in this process)"
	}
	flags := [][2]string{{"--voss", tf.voss}, {"--cupi", tf.cupi}, {"--config", tf.config}, {"--ca-file", tf.caFile}, {"--secrets", tf.secrets}, {"--shard", tf.shard.raw}}
	if in != nil {
		flags = append(flags, [2]string{"--model", in.opts.Model}, [2]string{"--hierarchy", in.opts.Hierarchy})
		if in.opts.Formulas != "error" {
			flags = append(flags, [2]string{"--formulas", in.opts.Formulas})
		}
	}
	for _, f := range flags {
		if f[1] != "" {
			args = append(args, f[0], shellQuote(f[1]))
		}
	}
	if tf.exactRoles {
		args = append(args, "--exact-roles")
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
