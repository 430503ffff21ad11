package main

import (
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"

	"github.com/bulkprov/bulkprov/transform"
)

// shardFlag is --shard K/N: this process runs the rows of the clusters
// that hash to K of N, so N processes (say, the pods of a Kubernetes
// Indexed Job) split a provider-wide run with nothing shared.
type shardFlag struct {
	k, n    int
	fromEnv bool // K comes from $JOB_COMPLETION_INDEX
	raw     string
}

func (s *shardFlag) String() string { return s.raw }

// Set parses K/N, or /N with K from $JOB_COMPLETION_INDEX.
func (s *shardFlag) Set(v string) error {
	ks, ns, ok := strings.Cut(v, "/")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 {
		return fmt.Errorf("want K/N with 0 ≤ K < N, or /N to take K from $JOB_COMPLETION_INDEX")
	}
	s.raw, s.n = v, n
	if ks == "" {
		s.fromEnv = true
		return nil
	}
	k, err := strconv.Atoi(ks)
	if err != nil || k < 0 || k >= n {
		return fmt.Errorf("want K/N with 0 ≤ K < N, got %q", v)
	}
	s.k = k
	return nil
}

// resolve takes K from the environment for --shard /N.
func (s *shardFlag) resolve() error {
	if !s.fromEnv {
		return nil
	}
	env := os.Getenv("JOB_COMPLETION_INDEX")
	if env == "" {
		return fail(exitInvalid, "--shard %s: $JOB_COMPLETION_INDEX is not set (it is in the pods of a Kubernetes Indexed Job); give --shard K/N", s.raw)
	}
	k, err := strconv.Atoi(env)
	if err != nil || k < 0 || k >= s.n {
		return fail(exitInvalid, "--shard %s: $JOB_COMPLETION_INDEX=%q is not a shard index below %d", s.raw, env, s.n)
	}
	s.k, s.fromEnv = k, false
	return nil
}

// on reports whether sharding is in force.
func (s *shardFlag) on() bool { return s.n > 1 }

// suffix is what default journal and back-out names get: -shardK-of-N.
func (s *shardFlag) suffix() string {
	if !s.on() {
		return ""
	}
	return fmt.Sprintf("-shard%d-of-%d", s.k, s.n)
}

// shardOf is the shard of a cluster: FNV-1a 32-bit of its name mod n, so
// adding a cluster never moves another; rows of no cluster go to shard 0.
func shardOf(cluster string, n int) int {
	if cluster == "" || cluster == transform.DefaultCluster {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(cluster))
	return int(h.Sum32() % uint32(n))
}

// keep reports whether this shard runs the rows of cluster.
func (s *shardFlag) keep(cluster string) bool {
	return !s.on() || shardOf(cluster, s.n) == s.k
}
