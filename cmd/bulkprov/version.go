package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// revision and buildTime are set by builds that stamp the VCS revision
// themselves (deploy/container/build: -ldflags "-X main.revision=$(git
// rev-parse HEAD)"), for build environments that set -buildvcs=false, as
// .ci/run does. Where Go stamped vcs.* into the build information, that
// wins.
var (
	revision  = ""
	buildTime = ""
	modified  = ""
)

// buildInfo is what `bulkprov version` prints, from the binary's build
// information (runtime/debug.ReadBuildInfo, as `go version -m` shows it).
type buildInfo struct {
	Version   string
	Revision  string
	Time      string
	Modified  string // "true", "false" or "" (unknown)
	GoVersion string
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Revision: revision, Time: buildTime, Modified: modified, GoVersion: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.GoVersion = info.GoVersion
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value
		}
	}
	return b
}

// String is the one-line form reports carry in run.version:
// "0.1.0-dev (revision 7c4142a…, 2026-12-07T22:00:00Z, modified) go1.26.0".
func (b buildInfo) String() string {
	var parts []string
	if b.Revision != "" {
		parts = append(parts, "revision "+b.Revision)
	} else {
		parts = append(parts, "revision unknown")
	}
	if b.Time != "" {
		parts = append(parts, b.Time)
	}
	if b.Modified == "true" {
		parts = append(parts, "modified")
	}
	return fmt.Sprintf("%s (%s) %s", b.Version, strings.Join(parts, ", "), b.GoVersion)
}

// versionString is the build's one-line description.
func versionString() string { return readBuildInfo().String() }

func runVersion(args []string, io streams) error {
	fs := newFlagSet("version", "", "Print the version, the VCS revision it was built from, its time, whether the tree was modified, and the Go version.", io)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	b := readBuildInfo()
	orUnknown := func(s string) string {
		if s == "" {
			return "unknown"
		}
		return s
	}
	fmt.Fprintf(io.out, "bulkprov %s\nrevision: %s\ntime: %s\nmodified: %s\ngo: %s\n",
		b.Version, orUnknown(b.Revision), orUnknown(b.Time), orUnknown(b.Modified), b.GoVersion)
	return nil
}
