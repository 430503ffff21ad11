package transform

import (
	"strings"
	"testing"
)

// The same prefix twice under one cluster claims it for one cluster only:
// cli.md makes only "a prefix under two clusters" exit 2.
func TestClusterPrefixRepeatedInOneCluster(t *testing.T) {
	_, _, err := ParseConfig("c.json", []byte(`{"cupiClusters":{"aaa":{"url":"https://cuc-aaa.example","hierarchies":["sys.hcs.AAA","sys.hcs.AAA."]}}}`))
	if err != nil {
		t.Fatalf("a prefix named twice under one cluster: %v", err)
	}
}

// NAME upper-cased, other characters as _ (one _ per character, not per byte).
func TestClusterEnv(t *testing.T) {
	for name, want := range map[string]string{
		"aaa":     "BULKPROV_CUPI_AAA",
		"cuc-bbb": "BULKPROV_CUPI_CUC_BBB",
		"zürich":  "BULKPROV_CUPI_Z_RICH",
		"x.1":     "BULKPROV_CUPI_X_1",
	} {
		if got := ClusterEnv(name); got != want {
			t.Errorf("ClusterEnv(%q) = %q, want %q", name, got, want)
		}
	}
}

// Two clusters whose names give the same credential variables could not be
// given different credentials: a config naming them is refused.
func TestClusterNamesSharingCredentialVariables(t *testing.T) {
	for _, pair := range [][2]string{{"aaa", "AAA"}, {"cuc-a", "cuc_a"}} {
		cfg := `{"cupiClusters":{"` + pair[0] + `":{"url":"https://a.example","hierarchies":["sys.a"]},"` + pair[1] + `":{"url":"https://b.example","hierarchies":["sys.b"]}}}`
		_, _, err := ParseConfig("c.json", []byte(cfg))
		if err == nil || !strings.Contains(err.Error(), ClusterEnv(pair[0])) {
			t.Errorf("clusters %q and %q: err = %v, want one naming %s", pair[0], pair[1], err, ClusterEnv(pair[0]))
		}
	}
}

// An empty hierarchy under a cluster routes nothing: a typo (an empty
// string, a lone ".") must not pass silently.
func TestClusterEmptyPrefixRefused(t *testing.T) {
	for _, h := range []string{`""`, `" "`, `"."`} {
		_, _, err := ParseConfig("c.json", []byte(`{"cupiClusters":{"aaa":{"url":"https://a.example","hierarchies":["sys.a",`+h+`]}}}`))
		if err == nil || !strings.Contains(err.Error(), "cupiClusters.aaa.hierarchies") {
			t.Errorf("hierarchy %s: err = %v", h, err)
		}
	}
}
