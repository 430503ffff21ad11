package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/bulkprov/bulkprov/internal/schema"
)

// Shell completion is generated from the commands' real flag sets: each
// command's run function is called with captureFlags set, and parseFlags
// hands over the flag set the command built instead of parsing. A flag
// added to a command is completed without touching this file.

// captureFlags, when set, receives the flag set of the command being run,
// which then returns errCaptured without doing anything.
var captureFlags func(*flag.FlagSet)

var errCaptured = errors.New("flags captured")

// File extensions completed for inputs and for file flags; flags whose
// value is one of a fixed set.
var (
	inputExts  = []string{"xlsx", "csv", "zip", "json"}
	reportExts = []string{"json", "xlsx", "csv", "html"}
	// fileExts are the extensions a file flag's value takes; a command may
	// override a flag (outExts).
	fileExts = map[string][]string{
		"report": reportExts, "config": {"json"}, "ca-file": {"pem", "crt"}, "secrets": {"csv"},
		"one-time-passwords": {"csv"}, "plan": {"json"}, "revert": {"json"}, "backout": {"json"},
		"checkpoint": {"journal"}, "metrics-file": {"prom"}, "state": {"json"}, "seed": inputExts,
		"tls-ca-out": {"pem"}, "out": {"json"},
	}
	outExts = map[string][]string{"export": {"xlsx", "zip"}, "template": {"xlsx"}, "plan": {"json"}}
	// dirFlags take a folder.
	dirFlags = map[string]bool{"state-dir": true}
)

// flagValues are the fixed sets of values of flags that have one.
func flagValues(name string) []string {
	switch name {
	case "formulas":
		return []string{"error", "cached"}
	case "model":
		return schema.Names()
	case "log-format":
		return logFormats
	}
	return nil
}

// completionShells are the shells bulkprov completion writes for.
var completionShells = []string{"bash", "zsh", "fish"}

type flagSpec struct {
	name, usage string
	boolean     bool
	values      []string // a fixed set
	exts        []string // a file with one of these extensions
	dir         bool
}

type commandSpec struct {
	name, summary string
	flags         []flagSpec
	args          []string // positional arguments from a fixed set
	argExts       []string // positional files with these extensions
}

// completionSpecs reads every command's flag set.
func completionSpecs() []commandSpec {
	var specs []commandSpec
	for _, c := range commands() {
		var fs *flag.FlagSet
		captureFlags = func(f *flag.FlagSet) { fs = f }
		_ = c.run(nil, streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
		captureFlags = nil
		s := commandSpec{name: c.name, summary: c.summary}
		if fs != nil {
			fs.VisitAll(func(f *flag.Flag) {
				if f.Usage == "" {
					return // accepted, does nothing here
				}
				fl := flagSpec{name: f.Name, usage: f.Usage, values: flagValues(f.Name), dir: dirFlags[f.Name]}
				if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
					fl.boolean = true
				}
				if !fl.boolean && fl.values == nil && !fl.dir {
					fl.exts = fileExts[f.Name]
					if f.Name == "out" && outExts[c.name] != nil {
						fl.exts = outExts[c.name]
					}
				}
				s.flags = append(s.flags, fl)
			})
		}
		switch c.name {
		case "validate", "plan", "apply":
			s.argExts = inputExts
		case "list":
			s.args = lookups
		case "template":
			s.args = schema.Names()
		case "completion":
			s.args = completionShells
		}
		specs = append(specs, s)
	}
	return specs
}

func runCompletion(args []string, io streams) error {
	fs := newFlagSet("completion", "bash|zsh|fish", `
Print a completion script for the shell: commands, flags, the values of
flags that take one of a fixed set, and file names with the extensions
inputs (.xlsx .csv .zip .json) and reports (.json .xlsx .csv .html) take.

Examples:
  source <(bulkprov completion bash)       # or save it in /etc/bash_completion.d/bulkprov
  bulkprov completion zsh > "${fpath[1]}/_bulkprov"
  bulkprov completion fish > ~/.config/fish/completions/bulkprov.fish`, io)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !contains(completionShells, pos[0]) {
		return usageError("completion", "name one shell: %s", strings.Join(completionShells, ", "))
	}
	specs := completionSpecs()
	switch pos[0] {
	case "bash":
		writeBash(io.out, specs)
	case "zsh":
		writeZsh(io.out, specs)
	case "fish":
		writeFish(io.out, specs)
	}
	return nil
}

func commandWords(specs []commandSpec) string {
	var names []string
	for _, s := range specs {
		names = append(names, s.name)
	}
	return strings.Join(names, " ")
}

func writeBash(w io.Writer, specs []commandSpec) {
	fmt.Fprintf(w, `# bash completion for bulkprov (bulkprov completion bash)
_bulkprov_files() {
	local e
	COMPREPLY=( $(compgen -d -- "$cur") )
	for e in "$@"; do
		COMPREPLY+=( $(compgen -f -X "!*.$e" -- "$cur") )
	done
}

_bulkprov() {
	local cur prev cmd IFS=$'\n'
	cur="${COMP_WORDS[COMP_CWORD]}"
	prev="${COMP_WORDS[COMP_CWORD-1]}"
	cmd="${COMP_WORDS[1]}"
	if [ "$COMP_CWORD" -eq 1 ]; then
		IFS=' ' COMPREPLY=( $(compgen -W "%s --help --version" -- "$cur") )
		return
	fi
	case "$cmd" in
`, commandWords(specs))
	for _, s := range specs {
		fmt.Fprintf(w, "\t%s)\n\t\tcase \"$prev\" in\n", s.name)
		var flags, takesValue []string
		for _, f := range s.flags {
			flags = append(flags, "--"+f.name)
			switch {
			case f.boolean:
			case f.values != nil:
				fmt.Fprintf(w, "\t\t--%s) IFS=' ' COMPREPLY=( $(compgen -W %q -- \"$cur\") ); return ;;\n", f.name, strings.Join(f.values, " "))
			case f.dir:
				fmt.Fprintf(w, "\t\t--%s) COMPREPLY=( $(compgen -d -- \"$cur\") ); return ;;\n", f.name)
			case f.exts != nil:
				fmt.Fprintf(w, "\t\t--%s) _bulkprov_files %s; return ;;\n", f.name, strings.Join(f.exts, " "))
			default:
				takesValue = append(takesValue, "--"+f.name)
			}
		}
		if len(takesValue) > 0 {
			fmt.Fprintf(w, "\t\t%s) return ;;\n", strings.Join(takesValue, "|"))
		}
		fmt.Fprintf(w, "\t\tesac\n")
		fmt.Fprintf(w, "\t\tif [[ \"$cur\" == -* ]]; then IFS=' ' COMPREPLY=( $(compgen -W %q -- \"$cur\") ); return; fi\n", strings.Join(append(flags, "--help"), " "))
		switch {
		case s.args != nil:
			fmt.Fprintf(w, "\t\tIFS=' ' COMPREPLY=( $(compgen -W %q -- \"$cur\") )\n", strings.Join(s.args, " "))
		case s.argExts != nil:
			fmt.Fprintf(w, "\t\t_bulkprov_files %s\n", strings.Join(s.argExts, " "))
		}
		fmt.Fprintf(w, "\t\t;;\n")
	}
	fmt.Fprint(w, "\tesac\n}\n\ncomplete -o filenames -F _bulkprov bulkprov\n")
}

// zshDesc makes a usage text safe inside an _arguments spec in single
// quotes: its first clause, without the characters the spec gives meaning.
func zshDesc(s string) string {
	if i := strings.IndexAny(s, ";("); i > 20 {
		s = s[:i]
	}
	s = strings.NewReplacer("'", "", "[", "(", "]", ")", ":", " ", "\\", "", "`", "", "$", "").Replace(strings.TrimSpace(s))
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

func zshGlob(exts []string) string {
	if len(exts) == 1 {
		return "*." + exts[0]
	}
	return "*.(" + strings.Join(exts, "|") + ")"
}

func writeZsh(w io.Writer, specs []commandSpec) {
	fmt.Fprint(w, "#compdef bulkprov\n# zsh completion for bulkprov (bulkprov completion zsh)\n\n_bulkprov() {\n\tlocal -a commands\n\tcommands=(\n")
	for _, s := range specs {
		fmt.Fprintf(w, "\t\t'%s:%s'\n", s.name, zshDesc(s.summary))
	}
	fmt.Fprint(w, "\t)\n\tif (( CURRENT == 2 )); then\n\t\t_describe 'command' commands\n\t\treturn\n\tfi\n\tlocal cmd=${words[2]}\n\tshift words\n\t(( CURRENT-- ))\n\tcase $cmd in\n")
	for _, s := range specs {
		fmt.Fprintf(w, "\t%s)\n\t\t_arguments -s \\\n", s.name)
		for _, f := range s.flags {
			d := zshDesc(f.usage)
			switch {
			case f.boolean:
				fmt.Fprintf(w, "\t\t\t'--%s[%s]' \\\n", f.name, d)
			case f.values != nil:
				fmt.Fprintf(w, "\t\t\t'--%s=[%s]:value:(%s)' \\\n", f.name, d, strings.Join(f.values, " "))
			case f.dir:
				fmt.Fprintf(w, "\t\t\t'--%s=[%s]:folder:_files -/' \\\n", f.name, d)
			case f.exts != nil:
				fmt.Fprintf(w, "\t\t\t'--%s=[%s]:file:_files -g \"%s\"' \\\n", f.name, d, zshGlob(f.exts))
			default:
				fmt.Fprintf(w, "\t\t\t'--%s=[%s]:value: ' \\\n", f.name, d)
			}
		}
		switch {
		case s.args != nil:
			fmt.Fprintf(w, "\t\t\t'1:argument:(%s)'\n", strings.Join(s.args, " "))
		case s.argExts != nil:
			fmt.Fprintf(w, "\t\t\t'*:input:_files -g \"%s\"'\n", zshGlob(s.argExts))
		default:
			fmt.Fprint(w, "\t\t\t'--help[show the flags]'\n")
		}
		fmt.Fprint(w, "\t\t;;\n")
	}
	fmt.Fprint(w, "\tesac\n}\n\nif [ \"$funcstack[1]\" = \"_bulkprov\" ]; then\n\t_bulkprov \"$@\"\nelse\n\tcompdef _bulkprov bulkprov\nfi\n")
}

func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func fishSuffixes(exts []string) string {
	var parts []string
	for _, e := range exts {
		parts = append(parts, "__fish_complete_suffix ."+e)
	}
	return fishQuote("(" + strings.Join(parts, "; ") + ")")
}

func writeFish(w io.Writer, specs []commandSpec) {
	fmt.Fprint(w, "# fish completion for bulkprov (bulkprov completion fish)\ncomplete -c bulkprov -f\n")
	fmt.Fprint(w, "complete -c bulkprov -n __fish_use_subcommand -l version -d 'print the version'\n")
	for _, s := range specs {
		fmt.Fprintf(w, "complete -c bulkprov -n __fish_use_subcommand -a %s -d %s\n", s.name, fishQuote(s.summary))
	}
	for _, s := range specs {
		cond := fishQuote("__fish_seen_subcommand_from " + s.name)
		for _, f := range s.flags {
			d := fishQuote(zshDesc(f.usage))
			switch {
			case f.boolean:
				fmt.Fprintf(w, "complete -c bulkprov -n %s -l %s -d %s\n", cond, f.name, d)
			case f.values != nil:
				fmt.Fprintf(w, "complete -c bulkprov -n %s -l %s -x -a %s -d %s\n", cond, f.name, fishQuote(strings.Join(f.values, " ")), d)
			case f.dir:
				fmt.Fprintf(w, "complete -c bulkprov -n %s -l %s -x -a '(__fish_complete_directories)' -d %s\n", cond, f.name, d)
			case f.exts != nil:
				fmt.Fprintf(w, "complete -c bulkprov -n %s -l %s -x -a %s -d %s\n", cond, f.name, fishSuffixes(f.exts), d)
			default:
				fmt.Fprintf(w, "complete -c bulkprov -n %s -l %s -x -d %s\n", cond, f.name, d)
			}
		}
		switch {
		case s.args != nil:
			fmt.Fprintf(w, "complete -c bulkprov -n %s -a %s\n", cond, fishQuote(strings.Join(s.args, " ")))
		case s.argExts != nil:
			fmt.Fprintf(w, "complete -c bulkprov -n %s -a %s\n", cond, fishSuffixes(s.argExts))
		}
	}
}
