package transform

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine"
)

// Config holds the mappings of a run (spec/cli.md, --config). Unknown keys
// are an error: a typo must not pass silently.
type Config struct {
	// DefaultHierarchy is used for VOSS rows and items that name none.
	DefaultHierarchy string `json:"defaultHierarchy,omitempty"`
	// Hierarchies renames source hierarchy paths (and everything below
	// them) to target paths.
	Hierarchies map[string]string `json:"hierarchies,omitempty"`
	// Roles maps a VOSS role to the CUPI role names its users must hold.
	Roles map[string][]string `json:"roles,omitempty"`
	// CredentialPolicies maps VOSS credential policy names to CUPI
	// credential policy display names.
	CredentialPolicies map[string]string `json:"credentialPolicies,omitempty"`
	// CUPIUserTemplate is the template alias for CUPI users bulkprov creates.
	CUPIUserTemplate string `json:"cupiUserTemplate,omitempty"`
	// VOSSRoles renames VOSS roles on the VOSS side (tenant replay).
	VOSSRoles map[string]string `json:"vossRoles,omitempty"`
	// CUPIClusters are the tenants' Unity Connection clusters by name; a
	// row's hierarchy picks its cluster by the longest prefix (at "."
	// boundaries, after the hierarchies renames). "default" is reserved
	// for --cupi.
	CUPIClusters map[string]ClusterConfig `json:"cupiClusters,omitempty"`
	// Approval is the change board's approval policy of apply (spec/cli.md,
	// "Approval and audit"); apply's --allowed-signers and --approvals win.
	Approval *ApprovalConfig `json:"approval,omitempty"`
}

// ApprovalConfig is the config's approval policy: an OpenSSH
// allowed_signers file (a relative path is relative to the config file's
// folder) and the number of distinct signers required (0: 1).
type ApprovalConfig struct {
	AllowedSigners string `json:"allowedSigners"`
	Required       int    `json:"required,omitempty"`
}

// ClusterConfig is one Unity Connection cluster: its base URL and the
// hierarchies whose users it serves.
type ClusterConfig struct {
	URL         string   `json:"url"`
	Hierarchies []string `json:"hierarchies"`
}

// DefaultCluster names the cluster of --cupi.
const DefaultCluster = engine.DefaultCluster

// validate checks what JSON decoding cannot: reserved and empty names,
// URLs, and a hierarchy prefix claimed by two clusters.
func (c *Config) validate() error {
	if a := c.Approval; a != nil && (strings.TrimSpace(a.AllowedSigners) == "" || a.Required < 0) {
		return fmt.Errorf("approval: want {\"allowedSigners\": \"FILE\", \"required\": N} with a file and N ≥ 1")
	}
	owner := map[string]string{}
	envOwner := map[string]string{}
	names := make([]string, 0, len(c.CUPIClusters))
	for name := range c.CUPIClusters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cl := c.CUPIClusters[name]
		switch {
		case name == "" || strings.EqualFold(name, DefaultCluster):
			return fmt.Errorf("cupiClusters: the name %q is reserved for --cupi; name the cluster after its tenant", name)
		case !strings.HasPrefix(cl.URL, "https://") && !strings.HasPrefix(cl.URL, "http://"):
			return fmt.Errorf("cupiClusters.%s.url: expected a URL such as https://cuc.example, got %q", name, cl.URL)
		case len(cl.Hierarchies) == 0:
			return fmt.Errorf("cupiClusters.%s.hierarchies: name at least one hierarchy whose users this cluster serves", name)
		}
		if prev, dup := envOwner[ClusterEnv(name)]; dup {
			return fmt.Errorf("cupiClusters: %s and %s would both read their credentials from %s_USER and _PASSWORD; rename one", prev, name, ClusterEnv(name))
		}
		envOwner[ClusterEnv(name)] = name
		for _, h := range cl.Hierarchies {
			h = strings.TrimSuffix(strings.TrimSpace(h), ".")
			if h == "" {
				return fmt.Errorf("cupiClusters.%s.hierarchies: an empty hierarchy routes no row; name a hierarchy such as sys.hcs.CS-P.CS-NB.AAAGlobal", name)
			}
			if prev, dup := owner[strings.ToLower(h)]; dup && prev != name {
				return fmt.Errorf("cupiClusters: hierarchy %s is under both %s and %s; a hierarchy belongs to one cluster", h, prev, name)
			}
			owner[strings.ToLower(h)] = name
		}
	}
	return nil
}

// Cluster returns the name of the Unity Connection cluster that serves
// hierarchy h: the cluster with the longest prefix of h at "." boundaries,
// or DefaultCluster (--cupi) when none matches.
func (c *Config) Cluster(h string) string {
	best, bestLen := DefaultCluster, -1
	lh := strings.ToLower(h)
	for name, cl := range c.CUPIClusters {
		for _, p := range cl.Hierarchies {
			p = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(p), "."))
			if (lh == p || strings.HasPrefix(lh, p+".")) && len(p) > bestLen {
				best, bestLen = name, len(p)
			}
		}
	}
	return best
}

// ClusterPrefixes lists every configured prefix as NAME=PREFIX, for
// error messages.
func (c *Config) ClusterPrefixes() string {
	var out []string
	for name, cl := range c.CUPIClusters {
		for _, p := range cl.Hierarchies {
			out = append(out, name+"="+p)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// DefaultTemplate is CUPI's default user template alias.
const DefaultTemplate = engine.DefaultTemplate

// LoadConfig reads a JSON config file strictly.
func LoadConfig(path string) (*Config, []byte, error) {
	if path == "" {
		return &Config{}, nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--config: %w", err)
	}
	return ParseConfig(path, b)
}

// ParseConfig parses and checks config bytes (say, the config a back-out
// file carries); path names them in errors.
func ParseConfig(path string, b []byte) (*Config, []byte, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var c Config
	if err := d.Decode(&c); err != nil {
		msg := describeConfigError(b, err)
		if strings.Contains(msg, "unknown field") {
			msg += " (known keys: defaultHierarchy, hierarchies, roles, credentialPolicies, cupiUserTemplate, vossRoles, cupiClusters, approval)"
		}
		return nil, nil, fmt.Errorf("--config %s: %s", path, msg)
	}
	if err := c.validate(); err != nil {
		return nil, nil, fmt.Errorf("--config %s: %v", path, err)
	}
	return &c, b, nil
}

// Template returns the CUPI user template to create users from.
func (c *Config) Template() string {
	if c.CUPIUserTemplate != "" {
		return c.CUPIUserTemplate
	}
	return DefaultTemplate
}

// Hierarchy maps a source hierarchy through the rename map (longest
// matching prefix wins) and the default.
func (c *Config) Hierarchy(h string) string {
	if h == "" {
		return c.DefaultHierarchy
	}
	keys := make([]string, 0, len(c.Hierarchies))
	for k := range c.Hierarchies {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
	for _, k := range keys {
		if h == k || strings.HasPrefix(h, k+".") {
			return c.Hierarchies[k] + h[len(k):]
		}
	}
	return h
}

// CUPIRoles returns the CUPI role names a VOSS role maps to: the map's
// entry, else the role of the same name.
func (c *Config) CUPIRoles(vossRole string) []string {
	if r, ok := c.Roles[vossRole]; ok {
		return r
	}
	return []string{vossRole}
}

// CUPIPolicy maps a VOSS credential policy name to a CUPI display name.
func (c *Config) CUPIPolicy(name string) string {
	if p, ok := c.CredentialPolicies[name]; ok {
		return p
	}
	return name
}

// LoadSecrets reads a secrets side-file: a CSV whose first column holds the
// business key (username, or hcsUname for relations) and whose other
// columns are secret field paths (password, pin,
// account_information.security_questions.[0].answer, AdminUser.password).
// The values are kept in memory only.
func LoadSecrets(path string) (map[string]map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--secrets: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("--secrets %s: %v", path, err)
	}
	if len(rows) == 0 || len(rows[0]) < 2 {
		return nil, fmt.Errorf("--secrets %s: expected a header row: username,password,... ", path)
	}
	header := rows[0]
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	out := map[string]map[string]string{}
	for n, row := range rows[1:] {
		if len(row) == 0 || strings.TrimSpace(row[0]) == "" {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(row[0]))
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("--secrets %s: row %d: %s appears twice", path, n+2, row[0])
		}
		m := map[string]string{}
		for i := 1; i < len(row) && i < len(header); i++ {
			if row[i] != "" {
				m[header[i]] = row[i]
			}
		}
		out[key] = m
	}
	return out, nil
}

// ClusterEnv is the environment prefix of a cluster's credentials:
// BULKPROV_CUPI_<NAME>, NAME upper-cased and other characters as _.
func ClusterEnv(name string) string {
	var b strings.Builder
	b.WriteString("BULKPROV_CUPI_")
	for _, ch := range strings.ToUpper(name) { // one _ per character, not per byte
		if ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' {
			b.WriteRune(ch)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
