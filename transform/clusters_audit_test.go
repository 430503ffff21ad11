package transform

import "testing"

// The same prefix twice under one cluster claims it for one cluster only:
// cli.md makes only "a prefix under two clusters" exit 2.
func TestClusterPrefixRepeatedInOneCluster(t *testing.T) {
	_, _, err := ParseConfig("c.json", []byte(`{"cupiClusters":{"aaa":{"url":"https://cuc-aaa.example","hierarchies":["sys.hcs.AAA","sys.hcs.AAA."]}}}`))
	if err != nil {
		t.Fatalf("a prefix named twice under one cluster: %v", err)
	}
}

