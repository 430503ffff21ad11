// Package kubernetes holds the manifests for running bulkprov on a
// cluster; its test checks their shape, since no cluster is reachable
// from the tests.
package kubernetes

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/bulkprov/bulkprov/transform"
)

type object struct {
	Kind       string                `yaml:"kind"`
	Metadata   struct{ Name string } `yaml:"metadata"`
	Data       map[string]string     `yaml:"data"`
	StringData map[string]string     `yaml:"stringData"`
	Spec       struct {
		CompletionMode string   `yaml:"completionMode"`
		Completions    int      `yaml:"completions"`
		Parallelism    int      `yaml:"parallelism"`
		AccessModes    []string `yaml:"accessModes"`
		Template       struct {
			Spec struct {
				Containers []struct {
					Args []string `yaml:"args"`
					Env  []struct {
						Name, Value string
					} `yaml:"env"`
					EnvFrom []struct {
						SecretRef struct{ Name string } `yaml:"secretRef"`
					} `yaml:"envFrom"`
					VolumeMounts []struct {
						Name        string `yaml:"name"`
						MountPath   string `yaml:"mountPath"`
						SubPathExpr string `yaml:"subPathExpr"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name      string                 `yaml:"name"`
					ConfigMap *struct{ Name string } `yaml:"configMap"`
					PVC       *struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// The Indexed Job splits a run into --shard /N pods, each with its own
// persistent state folder, the config bulkprov accepts, and credentials
// from a Secret only.
func TestIndexedJobManifest(t *testing.T) {
	raw, err := os.ReadFile("indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]object{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var o object
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("indexed-job.yaml: %v", err)
		}
		byKind[o.Kind] = o
	}
	cm, secret, pvc, job := byKind["ConfigMap"], byKind["Secret"], byKind["PersistentVolumeClaim"], byKind["Job"]
	cfgPath := filepath.Join(t.TempDir(), "tenants.json")
	if err := os.WriteFile(cfgPath, []byte(cm.Data["tenants.json"]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := transform.LoadConfig(cfgPath)
	if err != nil {
		t.Fatalf("the ConfigMap's config: %v", err)
	}
	if len(cfg.CUPIClusters) < 2 {
		t.Errorf("the example config names %d clusters; show at least two", len(cfg.CUPIClusters))
	}
	for _, k := range []string{"BULKPROV_VOSS_USER", "BULKPROV_VOSS_PASSWORD", "BULKPROV_CUPI_USER", "BULKPROV_CUPI_PASSWORD"} {
		if _, ok := secret.StringData[k]; !ok {
			t.Errorf("Secret lacks %s", k)
		}
	}
	if job.Spec.CompletionMode != "Indexed" || job.Spec.Completions < 2 || job.Spec.Parallelism != job.Spec.Completions {
		t.Errorf("Job: completionMode %q, completions %d, parallelism %d; want an Indexed Job running every shard at once",
			job.Spec.CompletionMode, job.Spec.Completions, job.Spec.Parallelism)
	}
	if len(pvc.Spec.AccessModes) == 0 {
		t.Errorf("no PersistentVolumeClaim for the state folders")
	}
	c := job.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	if !strings.Contains(args, "--shard /"+strconv.Itoa(job.Spec.Completions)) || strings.Contains(args, "PASSWORD") {
		t.Errorf("args %q: want --shard /%d and no credentials", args, job.Spec.Completions)
	}
	if len(c.EnvFrom) == 0 || c.EnvFrom[0].SecretRef.Name != secret.Metadata.Name {
		t.Errorf("credentials do not come from the Secret %s", secret.Metadata.Name)
	}
	stateDir := ""
	for _, e := range c.Env {
		if e.Name == "BULKPROV_STATE_DIR" {
			stateDir = e.Value
		}
	}
	perShard := false
	for _, m := range c.VolumeMounts {
		if m.MountPath == stateDir && strings.Contains(m.SubPathExpr, "$(JOB_COMPLETION_INDEX)") {
			perShard = true
		}
	}
	if !perShard {
		t.Errorf("the state folder %q is not a per-shard sub-folder of a persistent volume", stateDir)
	}
	claimed := false
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.PVC != nil && v.PVC.ClaimName == pvc.Metadata.Name {
			claimed = true
		}
	}
	if !claimed {
		t.Errorf("the Job does not mount the claim %s", pvc.Metadata.Name)
	}
}

// The Job runs the image deploy/container/build makes: a pinned tag (not
// :latest), as the user the image declares, and its log lines as JSON.
func TestJobRunsTheBuiltImage(t *testing.T) {
	manifest, err := os.ReadFile("indexed-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	containerfile, err := os.ReadFile(filepath.Join("..", "container", "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(containerfile), "\nUSER 65532:65532\n") || !strings.Contains(string(containerfile), "\nFROM scratch\n") {
		t.Fatalf("Containerfile: want FROM scratch and USER 65532:65532")
	}
	var job struct {
		Kind string
		Spec struct {
			Template struct {
				Spec struct {
					SecurityContext struct {
						RunAsUser int `yaml:"runAsUser"`
					} `yaml:"securityContext"`
					Containers []struct {
						Image string
						Args  []string
					}
				}
			}
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(manifest))
	found := false
	for {
		err := dec.Decode(&job)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if job.Kind != "Job" {
			continue
		}
		found = true
		c := job.Spec.Template.Spec.Containers[0]
		if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, "bulkprov:") {
			t.Errorf("image %q: want the built image with a pinned tag", c.Image)
		}
		if job.Spec.Template.Spec.SecurityContext.RunAsUser != 65532 {
			t.Errorf("runAsUser %d, want the image's 65532", job.Spec.Template.Spec.SecurityContext.RunAsUser)
		}
		if !strings.Contains(strings.Join(c.Args, " "), "--log-format json") {
			t.Errorf("args %q: want --log-format json", c.Args)
		}
	}
	if !found || !strings.Contains(string(manifest), "deploy/container/build") {
		t.Error("no Job, or the manifest does not say how its image is built")
	}
}
