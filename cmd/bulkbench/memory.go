package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// benchMemory measures the peak resident memory and the CPU time (user +
// sys) of bulkprov's own process (the simulators run in another) for plan
// and apply of 1,000, 10,000 and 100,000 data/User rows
// (BULKBENCH_MEMORY_USERS to choose), VOSS unpaced and CUPI at zero
// service time so it runs in minutes, and prints the per-row slopes from
// the smallest size. BULKBENCH_MEMORY_BEFORE=COMMIT also builds bulkprov
// at that commit (git archive, no worktree) and runs it side by side on
// the same inputs, each size against a fresh simulator, with the ratios.
func benchMemory(dir string) {
	sizes := []int{1000, 10000, 100000}
	if v := os.Getenv("BULKBENCH_MEMORY_USERS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			must(err)
			sizes = append(sizes, n)
		}
	}
	type binary struct{ name, path string }
	bins := []binary{{"this tree", filepath.Join(dir, "bulkprov")}}
	if out, err := exec.Command("go", "build", "-o", bins[0].path, "./cmd/bulkprov").CombinedOutput(); err != nil {
		panic(fmt.Sprintf("build: %v\n%s", err, out))
	}
	if commit := os.Getenv("BULKBENCH_MEMORY_BEFORE"); commit != "" {
		bins = append([]binary{{commit, buildAt(dir, commit)}}, bins...)
	}
	sim := bins[len(bins)-1].path // one simulator for every binary
	fmt.Printf("\n## peak resident memory and CPU (user+sys) of bulkprov (the simulators in their own process), data/User rows of 11 columns (password, PIN, role, credential policy, ...), VOSS unpaced, CUPI 0 ms\n\n")
	fmt.Printf("| users | bulkprov | plan peak RSS | plan CPU | apply peak RSS | apply CPU | apply wall | per row from %d: plan | apply |\n|---|---|---|---|---|---|---|---|---|\n", sizes[0])
	type result struct{ plan, apply measured }
	first := map[string]result{}
	all := map[string]map[int]result{}
	for _, n := range sizes {
		csv := memoryInput(dir, n)
		for i, b := range bins {
			url, stop := startSim(sim)
			state := filepath.Join(dir, fmt.Sprintf("state-%d-%d", n, i))
			r := result{plan: runMeasured(b.path, "plan", url, state, csv), apply: runMeasured(b.path, "apply", url, state, csv)}
			stop()
			slope := func(cur, base measured) string {
				if n == sizes[0] {
					return ""
				}
				return fmt.Sprintf("%.1f KiB", (cur.rssMiB-base.rssMiB)*1024/float64(n-sizes[0]))
			}
			if n == sizes[0] {
				first[b.name] = r
			}
			if all[b.name] == nil {
				all[b.name] = map[int]result{}
			}
			all[b.name][n] = r
			fmt.Printf("| %d | %s | %.0f MiB | %.1f s | %.0f MiB | %.1f s | %v | %s | %s |\n", n, b.name, r.plan.rssMiB, r.plan.cpu, r.apply.rssMiB, r.apply.cpu,
				r.apply.wall.Round(time.Second), slope(r.plan, first[b.name].plan), slope(r.apply, first[b.name].apply))
		}
	}
	if len(bins) < 2 {
		return
	}
	fmt.Printf("\n| users | plan RSS after/before | apply RSS after/before | plan CPU after/before | apply CPU after/before |\n|---|---|---|---|---|\n")
	for _, n := range sizes {
		b, a := all[bins[0].name][n], all[bins[1].name][n]
		fmt.Printf("| %d | %.2f | %.2f | %.2f | %.2f |\n", n, a.plan.rssMiB/b.plan.rssMiB, a.apply.rssMiB/b.apply.rssMiB, a.plan.cpu/b.plan.cpu, a.apply.cpu/b.apply.cpu)
	}
}

// measured is one bulkprov command's peak RSS, CPU time and wall time.
type measured struct {
	rssMiB, cpu float64
	wall        time.Duration
}

// memoryInput writes n data/User rows of a real tenant's look (realUsers:
// password, PIN, role, credential policy, 11 columns) that create VOSS
// and CUPI users.
func memoryInput(dir string, n int) string {
	return realUsers(filepath.Join(dir, fmt.Sprintf("mem-%d.csv", n)), "mem", n)
}

// startSim starts bin's simulators in their own process and returns their
// URL and what stops them.
func startSim(bin string, args ...string) (url string, stop func()) {
	sim := exec.Command(bin, append([]string{"sim", "--listen", "127.0.0.1:0"}, args...)...)
	sim.Env = append(os.Environ(), "BULKPROV_VOSS_USER=admin", "BULKPROV_VOSS_PASSWORD=admin")
	stdout, _ := sim.StdoutPipe()
	must(sim.Start())
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "voss="); ok {
			url = v
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return url, func() { _ = sim.Process.Kill(); _ = sim.Wait() }
}

// runMeasured runs bulkprov cmd under /usr/bin/time.
func runMeasured(bin, cmd, url, state, csv string) measured {
	c := exec.Command("/usr/bin/time", "-f", "%M %U %S", bin, cmd, "--voss", url, "--cupi", url, "--voss-rate", "0", "--quiet", "--state-dir", state, csv)
	c.Env = append(os.Environ(), "BULKPROV_VOSS_USER=admin", "BULKPROV_VOSS_PASSWORD=admin", "BULKPROV_CUPI_USER=admin", "BULKPROV_CUPI_PASSWORD=admin")
	var errb bytes.Buffer
	c.Stderr = &errb
	s := time.Now()
	_ = c.Run()
	wall := time.Since(s)
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	var kb, user, sys float64
	fmt.Sscan(lines[len(lines)-1], &kb, &user, &sys)
	return measured{rssMiB: kb / 1024, cpu: user + sys, wall: wall}
}

// buildAt builds bulkprov as it was at commit, from git archive.
func buildAt(dir, commit string) string {
	src := filepath.Join(dir, "src-"+commit)
	must(os.MkdirAll(src, 0o755))
	archive := exec.Command("sh", "-c", fmt.Sprintf("git archive %s | tar -x -C %s", commit, src))
	if out, err := archive.CombinedOutput(); err != nil {
		panic(fmt.Sprintf("git archive %s: %v\n%s", commit, err, out))
	}
	bin := filepath.Join(dir, "bulkprov-"+commit)
	build := exec.Command("go", "build", "-o", bin, "./cmd/bulkprov")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		panic(fmt.Sprintf("build %s: %v\n%s", commit, err, out))
	}
	return bin
}
