package engine

import (
	"fmt"
)

// Kinds of object an operation acts on (the report's "kind").
const (
	KindUser     = "data/User"
	KindAdminREL = "relation/HcsAdminUserREL"
	KindCUPIUser = "cupi/user"
	KindUserRole = "cupi/userrole"
	KindPassword = "cupi/credential/password"
	KindPIN      = "cupi/credential/pin"
	KindAuthz    = "cupi/authz-server"
)

// Want is the desired state of one object (or, for KindUserRole, of a
// user's set of roles).
type Want struct {
	Target string // "voss" or "cupi"
	Kind   string
	Key    string // business key shown in reports

	Delete    bool // the object must be absent (roles: must not be held)
	MustExist bool // modify: an absent object is an error, not a create

	// VOSS
	Model     string
	Hierarchy string
	KeyValue  string // the business key field's value
	SearchKey string // the key to find the current instance by, when renaming
	Pkid      string // # Unique Identifier

	// Fields are the fields the row names: a nested tree for VOSS, flat
	// CUPI field names to string values for CUPI. Secrets hold the
	// write-only values by path (most wants hold none or one); they never
	// appear in Fields.
	Fields  map[string]any
	Secrets Secrets

	// CUPI
	Alias        string
	Template     string   // user template for a create
	CreateFields Pairs    // body of a CUPI user create, sent in name order
	NoCreate     string   // why the CUPI user cannot be created when missing
	Roles        []string // CUPI role names
	ExactRoles   bool     // remove roles not listed
	// RolesOf maps the VOSS user's current role to CUPI role names, for a
	// delete row that does not name the role.
	RolesOf    func(vossRole string) []string
	PolicyName string // credential policy display name to resolve

	Err string // this part of the row cannot be done

	// Cluster names the Unity Connection cluster of a CUPI want
	// (DefaultCluster for --cupi). ClusterHierarchy is the hierarchy that
	// matched no configured cluster, for the error when there is no --cupi.
	Cluster          string
	ClusterHierarchy string
}

// DefaultTemplate is CUPI's default user template alias.
const DefaultTemplate = "voicemailusertemplate"

// Row is one input row's wants, with where it came from.
type Row struct {
	Source Source
	Model  string // the row's model, e.g. "data/User"
	Wants  []Want
}

// Source is where a row came from, as plain values: FILE:SHEET:ROW for a
// workbook or CSV, FILE:ENTRY:INDEX for a JSON export. Its fields and JSON
// names are the loader's location's.
type Source struct {
	File  string `json:"file"`
	Sheet string `json:"sheet,omitempty"`
	Row   int    `json:"row,omitempty"`
	Entry string `json:"entry,omitempty"`
	Index int    `json:"index,omitempty"`
}

// String formats the source as FILE:SHEET:ROW or FILE:ENTRY:INDEX.
func (s Source) String() string {
	switch {
	case s.Entry != "":
		return fmt.Sprintf("%s:%s:%d", s.File, s.Entry, s.Index)
	case s.Sheet != "":
		return fmt.Sprintf("%s:%s:%d", s.File, s.Sheet, s.Row)
	}
	return s.File
}

// CopyTree returns a deep copy of a field tree (objects and arrays).
func CopyTree(m map[string]any) map[string]any { return deepCopy(m).(map[string]any) }
