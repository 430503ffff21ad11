package main

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// realUsers writes n data/User rows as a real tenant's look: names, an
// email, a password, a role, a language, locked, a credential policy, an
// extension and a PIN — 11 columns besides the action. Each row plans a
// VOSS user and a CUPI user, its role, its password settings (policy,
// lock, password) and its PIN: five writes.
func realUsers(path, prefix string, n int) string {
	f, err := os.Create(path)
	must(err)
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "\"entity: data/User; hierarchy: sys.hcs.CS-P.CS-NB.AAAGlobal\"\n# Action,username,first_name,last_name,email,password,role,language,account_information.locked,account_information.credential_policy,DtmfAccessId,pin")
	roles := []string{"Help Desk Administrator", "User Administrator", "Audit Administrator"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "add,%s%07d,First%d,Last %d,%s%07d@tenant.example.com,Tenant-Pass-%07d!,%s,en-us,%v,Default Credential Policy,%d,%06d\n",
			prefix, i, i%97, i, prefix, i, i, roles[i%len(roles)], i%5 == 0, 4000000+i, (135790+i*7)%1000000)
	}
	must(w.Flush())
	must(f.Close())
	return path
}

// recorded is one HTTP request a server received, as the plain client
// sends it again.
type recorded struct {
	Method, URI string
	Header      http.Header
	Body        []byte
}

// recorder is a reverse proxy in front of the simulators that keeps every
// request, in the order they arrive.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	url  string
	srv  *http.Server
}

func startRecorder(target string) *recorder {
	u, err := url.Parse(target)
	must(err)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	r := &recorder{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	r.url = "http://" + ln.Addr().String()
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		h := http.Header{}
		for _, k := range []string{"Authorization", "Content-Type", "Accept"} {
			if v := req.Header.Get(k); v != "" {
				h.Set(k, v)
			}
		}
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{Method: req.Method, URI: req.URL.RequestURI(), Header: h, Body: body})
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, req)
	})}
	go func() { _ = r.srv.Serve(ln) }()
	return r
}

func (r *recorder) stop() []recorded {
	_ = r.srv.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs
}

// benchCPU measures the CPU time (user + sys) of the whole bulkprov process
// — load, plan and apply — per HTTP request the servers received, and
// beside it two baselines sending the same requests one after another to
// the same simulators (fresh ones, in the same run): a plain Go client,
// the floor of what an HTTP client costs; and the durable floor, that
// plain client appending a line of about half a kilobyte to a file and
// fsyncing it before each write request — what any client that must not
// lose a write pays on this disk. The simulators run in their own
// process, so their CPU is not counted; a recording proxy in this process
// counts the requests. BULKBENCH_CPU_USERS (default 2000) rows of
// realUsers; BULKBENCH_BEFORE=COMMIT also builds bulkprov at COMMIT and
// runs it side by side; BULKBENCH_CPU_ROUNDS (default 2) runs alternate.
// BULKBENCH_CPU_SERVICE=DURATION (default 0) is the CUPI service time of
// bulkprov's runs (the baselines, sequential, run at 0 ms: their CPU per
// request does not depend on how long a server takes). Each run is
// repeated under strace, against fresh simulators, for its fsyncs
// (BULKBENCH_STRACE=0 skips it).
func benchCPU(dir string) {
	n, rounds := 2000, 2
	if v := os.Getenv("BULKBENCH_CPU_USERS"); v != "" {
		fmt.Sscan(v, &n)
	}
	if v := os.Getenv("BULKBENCH_CPU_ROUNDS"); v != "" {
		fmt.Sscan(v, &rounds)
	}
	var service time.Duration
	if v := os.Getenv("BULKBENCH_CPU_SERVICE"); v != "" {
		var err error
		service, err = time.ParseDuration(v)
		must(err)
	}
	type binary struct{ name, path string }
	bins := []binary{{"this tree", filepath.Join(dir, "bulkprov")}}
	if out, err := exec.Command("go", "build", "-o", bins[0].path, "./cmd/bulkprov").CombinedOutput(); err != nil {
		panic(fmt.Sprintf("build: %v\n%s", err, out))
	}
	if commit := os.Getenv("BULKBENCH_BEFORE"); commit != "" {
		bins = append([]binary{{commit, buildAt(dir, commit)}}, bins...)
	}
	sim := bins[len(bins)-1].path
	simArgs := []string{"--cupi-service-time", service.String()}
	csv := realUsers(filepath.Join(dir, "cpu-users.csv"), "cpu", n)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("\n## CPU per HTTP request: bulkprov apply (whole process: load, plan, apply) against a plain Go client and the durable floor (the plain client with an fsync'd 0.5 KB append before each write) sending the same requests one after another, %d data/User rows (11 columns: password, PIN, role, credential policy, ...), VOSS unpaced, CUPI %v, simulators in their own process; load average at start %s\n\n", n, service, strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Printf("| round | bulkprov | requests received | writes | user | sys | CPU per request | plain client: user | sys | CPU per request | **ratio** | durable floor: user | sys | CPU per request | **ratio** | fsyncs | fsyncs per write | peak RSS |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for round := 1; round <= rounds; round++ {
		for i, b := range bins {
			url, stop := startSim(sim, simArgs...)
			rec := startRecorder(url)
			state := filepath.Join(dir, fmt.Sprintf("cpu-state-%d-%d", round, i))
			m := runTimed(b.path, rec.url, state, csv)
			reqs := rec.stop()
			stop()
			syncs := -1
			if os.Getenv("BULKBENCH_STRACE") != "0" {
				url, stop := startSim(sim, simArgs...)
				syncs = countFsyncs(b.path, url, state+"-strace", csv)
				stop()
			}
			writes := 0
			for _, r := range reqs {
				if r.Method != http.MethodGet {
					writes++
				}
			}
			log := filepath.Join(dir, "requests.gob")
			lf, err := os.Create(log)
			must(err)
			must(gob.NewEncoder(lf).Encode(reqs))
			must(lf.Close())
			pu, ps := runPlain(sim, log, "")
			du, ds := runPlain(sim, log, filepath.Join(dir, fmt.Sprintf("durable-%d-%d.log", round, i)))
			per := (m.user + m.sys) / float64(len(reqs)) * 1000
			plainPer := (pu + ps) / float64(len(reqs)) * 1000
			durablePer := (du + ds) / float64(len(reqs)) * 1000
			fsync := "—"
			perWrite := "—"
			if syncs >= 0 {
				fsync = fmt.Sprint(syncs)
				perWrite = fmt.Sprintf("%.2f", float64(syncs)/float64(writes))
			}
			fmt.Printf("| %d | %s | %d | %d | %.2f s | %.2f s | %.3f ms | %.2f s | %.2f s | %.3f ms | **%.2f×** | %.2f s | %.2f s | %.3f ms | **%.2f×** | %s | %s | %.0f MiB |\n",
				round, b.name, len(reqs), writes, m.user, m.sys, per, pu, ps, plainPer, per/plainPer, du, ds, durablePer, per/durablePer, fsync, perWrite, m.rssMiB)
		}
	}
}

// runPlain runs the plain client (journal "") or the durable floor (an
// fsync'd append to journal before each write) in a child process against
// fresh simulators at 0 ms, and returns its user and sys CPU seconds.
func runPlain(sim, log, journal string) (user, sys float64) {
	url, stop := startSim(sim)
	defer stop()
	self, err := os.Executable()
	must(err)
	args := []string{"plain-client", log, url}
	if journal != "" {
		args = append(args, journal)
	}
	out, err := exec.Command(self, args...).Output()
	must(err)
	fmt.Sscan(string(out), &user, &sys)
	return user, sys
}

type cpuMeasured struct{ user, sys, rssMiB float64 }

// runTimed runs bulkprov apply under /usr/bin/time for its CPU and peak
// RSS.
func runTimed(bin, url, state, csv string) cpuMeasured {
	c := exec.Command("/usr/bin/time", "-f", "%M %U %S", bin, "apply", "--voss", url, "--cupi", url, "--voss-rate", "0", "--quiet", "--state-dir", state, csv)
	c.Env = append(os.Environ(), "BULKPROV_VOSS_USER=admin", "BULKPROV_VOSS_PASSWORD=admin", "BULKPROV_CUPI_USER=admin", "BULKPROV_CUPI_PASSWORD=admin")
	var errb bytes.Buffer
	c.Stderr = &errb
	if err := c.Run(); err != nil {
		panic(fmt.Sprintf("bulkprov apply: %v\n%s", err, errb.String()))
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	var m cpuMeasured
	var kb float64
	fmt.Sscan(lines[len(lines)-1], &kb, &m.user, &m.sys)
	m.rssMiB = kb / 1024
	return m
}

// countFsyncs runs bulkprov apply under strace (a run of its own: strace
// slows what it traces) and returns the fsyncs and fdatasyncs it made.
func countFsyncs(bin, url, state, csv string) int {
	trace := state + ".strace"
	c := exec.Command("strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", trace, bin, "apply", "--voss", url, "--cupi", url, "--voss-rate", "0", "--quiet", "--state-dir", state, csv)
	c.Env = append(os.Environ(), "BULKPROV_VOSS_USER=admin", "BULKPROV_VOSS_PASSWORD=admin", "BULKPROV_CUPI_USER=admin", "BULKPROV_CUPI_PASSWORD=admin")
	if out, err := c.CombinedOutput(); err != nil {
		panic(fmt.Sprintf("bulkprov apply under strace: %v\n%s", err, out))
	}
	raw, _ := os.ReadFile(trace)
	n := 0
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 && (f[len(f)-1] == "fsync" || f[len(f)-1] == "fdatasync") {
			var k int
			fmt.Sscan(f[3], &k)
			n += k
		}
	}
	return n
}

// plainClient is the child process of benchCPU: it sends the recorded
// requests in log one after another to url with a plain net/http client,
// reads each answer whole, and prints its own user and sys CPU seconds
// for the sending alone (reading the log excluded). With a journal path,
// it is the durable floor: before each write request it appends a line of
// about half a kilobyte to that file and fsyncs it, as a client that must
// not lose a write does at the least.
func plainClient(log, base, journal string) {
	f, err := os.Open(log)
	must(err)
	var reqs []recorded
	must(gob.NewDecoder(bufio.NewReader(f)).Decode(&reqs))
	f.Close()
	var jf *os.File
	line := []byte(`{"type":"intent","op":"` + strings.Repeat("x", 480) + `"}` + "\n")
	if journal != "" {
		jf, err = os.OpenFile(journal, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o600)
		must(err)
		defer jf.Close()
	}
	client := &http.Client{Timeout: time.Minute}
	var r0, r1 syscall.Rusage
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &r0))
	for _, r := range reqs {
		if jf != nil && r.Method != http.MethodGet {
			_, err := jf.Write(line)
			must(err)
			must(jf.Sync())
		}
		req, err := http.NewRequest(r.Method, base+r.URI, bytes.NewReader(r.Body))
		must(err)
		for k, v := range r.Header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		must(err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	must(syscall.Getrusage(syscall.RUSAGE_SELF, &r1))
	sec := func(a, b syscall.Timeval) float64 {
		return float64(b.Sec-a.Sec) + float64(b.Usec-a.Usec)/1e6
	}
	fmt.Printf("%.3f %.3f\n", sec(r0.Utime, r1.Utime), sec(r0.Stime, r1.Stime))
}
