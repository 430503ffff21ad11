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

// benchMemory measures the peak resident memory of bulkprov's own process
// (the simulators run in another) for plan and apply of 1,000, 10,000 and
// 100,000 data/User rows (BULKBENCH_MEMORY_USERS to choose), VOSS
// unpaced and CUPI at zero service time so it runs in minutes, and prints
// the per-row slope.
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
	bin := filepath.Join(dir, "bulkprov")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/bulkprov").CombinedOutput()
	if err != nil {
		panic(fmt.Sprintf("build: %v\n%s", err, out))
	}
	fmt.Printf("\n## peak resident memory of bulkprov (the simulators in their own process), data/User rows, VOSS unpaced, CUPI 0 ms\n\n")
	fmt.Printf("| users | plan peak RSS | apply peak RSS | apply wall | per row (apply) |\n|---|---|---|---|---|\n")
	var prevN int
	var prevRSS float64
	for _, n := range sizes {
		csv := filepath.Join(dir, fmt.Sprintf("mem-%d.csv", n))
		f, _ := os.Create(csv)
		w := bufio.NewWriter(f)
		fmt.Fprintln(w, "\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal\"\n# Action,username,first_name,last_name,email,role,password,DtmfAccessId")
		for i := 0; i < n; i++ {
			fmt.Fprintf(w, "add,mem%07d,First,Last %d,mem%07d@example.com,Help Desk Administrator,Memory-Pass-%07d,%d\n", i, i, i, i, 3000000+i)
		}
		must(w.Flush())
		f.Close()
		sim := exec.Command(bin, "sim", "--listen", "127.0.0.1:0")
		sim.Env = append(os.Environ(), "BULKPROV_VOSS_USER=admin", "BULKPROV_VOSS_PASSWORD=admin")
		stdout, _ := sim.StdoutPipe()
		must(sim.Start())
		sc := bufio.NewScanner(stdout)
		url := ""
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
		run := func(cmd string) (float64, time.Duration) {
			c := exec.Command("/usr/bin/time", "-f", "%M", bin, cmd, "--voss", url, "--cupi", url, "--voss-rate", "0", "--quiet", "--state-dir", filepath.Join(dir, "state"), csv)
			c.Env = append(os.Environ(), "BULKPROV_VOSS_USER=admin", "BULKPROV_VOSS_PASSWORD=admin", "BULKPROV_CUPI_USER=admin", "BULKPROV_CUPI_PASSWORD=admin")
			var errb bytes.Buffer
			c.Stderr = &errb
			s := time.Now()
			_ = c.Run()
			lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
			kb, _ := strconv.ParseFloat(lines[len(lines)-1], 64)
			return kb / 1024, time.Since(s)
		}
		planRSS, _ := run("plan")
		applyRSS, wall := run("apply")
		_ = sim.Process.Kill()
		_ = sim.Wait()
		slope := ""
		if prevN > 0 {
			slope = fmt.Sprintf("%.1f KiB (slope from %d)", (applyRSS-prevRSS)*1024/float64(n-prevN), prevN)
		}
		fmt.Printf("| %d | %.0f MiB | %.0f MiB | %v | %s |\n", n, planRSS, applyRSS, wall.Round(time.Second), slope)
		prevN, prevRSS = n, applyRSS
	}
}
