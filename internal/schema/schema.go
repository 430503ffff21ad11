// Package schema holds what bulkprov knows about the models it reads and
// writes: field names and types, required fields, length limits, patterns,
// write-only (secret) fields and business keys. The knowledge comes from the
// VOSS API reference pages for data/User and relation/HcsAdminUserREL and the
// Cisco CUPI pages for users, credentials and authorization servers.
package schema

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Type is the JSON type of a field.
type Type int

// Field types.
const (
	String Type = iota
	Bool
	Integer
	DateTime
	Object
	Array
)

func (t Type) String() string {
	return [...]string{"string", "boolean", "integer", "date-time", "object", "array"}[t]
}

// Field describes one attribute of a model. Nested objects list their
// children in Fields; arrays list the fields of one element in Fields.
type Field struct {
	Name       string
	Type       Type
	Required   bool   // must be present on add
	MaxLength  int    // 0: no limit
	Pattern    string // a regular expression the whole value must match
	Secret     bool   // write-only: never read back, never printed
	ReadOnly   bool   // set by the server; refused in input
	Default    string // value the server fills in when the field is absent
	IgnoreCase bool   // the server compares this field without case
	Fields     []*Field

	re *regexp.Regexp
}

// Child returns the child field named name (case-insensitively), or nil.
func (f *Field) Child(name string) *Field {
	for _, c := range f.Fields {
		if strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

// Match reports whether v satisfies the field's pattern. Safe for
// concurrent use: patterns are compiled when the package loads.
func (f *Field) Match(v string) bool {
	return f.re == nil || f.re.MatchString(v)
}

func compilePatterns(f *Field) {
	if f.Pattern != "" {
		f.re = regexp.MustCompile("^(?:" + f.Pattern + ")$")
	}
	for _, c := range f.Fields {
		compilePatterns(c)
	}
}

func init() {
	for _, m := range models {
		compilePatterns(m.Root)
	}
}

// Model describes one model type: its root field tree and business key.
type Model struct {
	Name   string // e.g. "data/User"
	Target string // "voss" or "cupi"
	Root   *Field
	// Key is the dotted path of the business-key field; VOSS keys are
	// unique within a hierarchy, CUPI keys are global.
	Key string
	// Hierarchical reports whether instances live under a hierarchy node.
	Hierarchical bool
}

// Lookup resolves a dotted path such as "account_information.locked" or
// "account_information.security_questions.[0].question" against the model,
// case-insensitively. It returns the field and the canonical path, or nil.
func (m *Model) Lookup(path string) (*Field, string) {
	f := m.Root
	var canon []string
	for _, seg := range strings.Split(path, ".") {
		if IsIndex(seg) {
			if f.Type != Array {
				return nil, ""
			}
			canon = append(canon, seg)
			continue
		}
		c := f.Child(seg)
		if c == nil {
			return nil, ""
		}
		f = c
		canon = append(canon, c.Name)
	}
	return f, strings.Join(canon, ".")
}

// Paths lists every leaf path of the model (arrays shown with [0]), sorted;
// used for "did you mean" suggestions and export column order.
func (m *Model) Paths() []string {
	var out []string
	var walk func(prefix string, f *Field)
	walk = func(prefix string, f *Field) {
		for _, c := range f.Fields {
			p := prefix + c.Name
			switch c.Type {
			case Object:
				walk(p+".", c)
			case Array:
				walk(p+".[0].", c)
			default:
				out = append(out, p)
			}
		}
	}
	walk("", m.Root)
	sort.Strings(out)
	return out
}

// IsIndex reports whether a path segment is an array index in the canonical
// "[N]" form.
func IsIndex(seg string) bool {
	return len(seg) > 2 && seg[0] == '[' && seg[len(seg)-1] == ']'
}

// Get returns the model named name (case-insensitively), or nil.
func Get(name string) *Model {
	for _, m := range models {
		if strings.EqualFold(m.Name, name) {
			return m
		}
	}
	return nil
}

// Names lists the known model names.
func Names() []string {
	var out []string
	for _, m := range models {
		out = append(out, m.Name)
	}
	return out
}

// Model names.
const (
	User         = "data/User"
	AdminUserREL = "relation/HcsAdminUserREL"
	CUPIUser     = "cupi/User"
	CUPIAuthz    = "cupi/AuthzServer"
)

func s(name string) *Field                 { return &Field{Name: name, Type: String} }
func b(name string) *Field                 { return &Field{Name: name, Type: Bool} }
func obj(name string, fs ...*Field) *Field { return &Field{Name: name, Type: Object, Fields: fs} }
func arr(name string, fs ...*Field) *Field { return &Field{Name: name, Type: Array, Fields: fs} }

func with(f *Field, mod func(*Field)) *Field { mod(f); return f }

// userFields returns the data/User attribute tree of seed 001 (shared with
// the AdminUser object of relation/HcsAdminUserREL, seed 002).
func userFields() []*Field {
	return []*Field{
		with(s("username"), func(f *Field) { f.Required = true }),
		s("email"),
		s("first_name"),
		s("last_name"),
		with(s("password"), func(f *Field) { f.Secret = true; f.Pattern = ".{8,}" }),
		with(s("role"), func(f *Field) { f.Required = true }),
		with(s("language"), func(f *Field) { f.Default = "en-us"; f.IgnoreCase = true }),
		b("set_language"),
		obj("account_information",
			b("change_password_on_login"),
			b("locked"),
			b("disabled"),
			s("reason_for_disabled"),
			s("credential_policy"),
			&Field{Name: "failed_login_lock_date", Type: DateTime},
			&Field{Name: "password_last_change_time", Type: DateTime, ReadOnly: true},
			&Field{Name: "password_last_change_time_by_user", Type: DateTime, ReadOnly: true},
			&Field{Name: "last_login_time", Type: DateTime, ReadOnly: true},
			&Field{Name: "num_of_failed_login_attempts", Type: Integer, Default: "0"},
			arr("security_questions",
				&Field{Name: "question", Type: String, Required: true, MaxLength: 128},
				&Field{Name: "answer", Type: String, Required: true, MaxLength: 128, Secret: true},
			),
			arr("used_passwords",
				&Field{Name: "password", Type: String, Secret: true},
				s("time_created"),
			),
		),
	}
}

var models = []*Model{
	{
		Name: User, Target: "voss", Key: "username", Hierarchical: true,
		// pin and DtmfAccessId are bulkprov's own columns: the PIN becomes the
		// CUPI credential/pin, DtmfAccessId the extension used when the CUPI
		// user must be created (inputs.md "What a row means").
		Root: obj("", append(userFields(),
			&Field{Name: "pin", Type: String, Secret: true},
			s("DtmfAccessId"),
		)...),
	},
	{
		Name: AdminUserREL, Target: "voss", Key: "hcsUname", Hierarchical: true,
		Root: obj("",
			&Field{Name: "hcsUname", Type: String, Required: true, MaxLength: 1024},
			with(obj("AdminUser", userFields()...), func(f *Field) { f.Required = true }),
		),
	},
	{
		Name: CUPIUser, Target: "cupi", Key: "Alias",
		Root: obj("",
			&Field{Name: "Alias", Type: String, Required: true, MaxLength: 64, IgnoreCase: true},
			&Field{Name: "DtmfAccessId", Type: String, MaxLength: 40},
			&Field{Name: "FirstName", Type: String, MaxLength: 64},
			&Field{Name: "LastName", Type: String, MaxLength: 64},
			&Field{Name: "DisplayName", Type: String, MaxLength: 64},
			&Field{Name: "EmailAddress", Type: String, MaxLength: 320},
			&Field{Name: "Password", Type: String, Secret: true},
			&Field{Name: "Pin", Type: String, Secret: true, Pattern: "[0-9]*"},
			s("Roles"),
			s("Template"),
		),
	},
	{
		Name: CUPIAuthz, Target: "cupi", Key: "DisplayName",
		Root: obj("",
			&Field{Name: "DisplayName", Type: String, Required: true, MaxLength: 64},
			&Field{Name: "ServerNodeAddress", Type: String, Required: true},
			&Field{Name: "Port", Type: Integer},
			s("ServerUsername"),
			&Field{Name: "ServerPassword", Type: String, Secret: true},
			b("IgnoreCertificateError"),
		),
	},
}

// Suggest returns the known path closest to name by edit distance, or ""
// when nothing is close enough to be a plausible typo.
func (m *Model) Suggest(name string) string {
	best, bestD := "", 1<<30
	lname := strings.ToLower(name)
	for _, p := range m.Paths() {
		d := editDistance(lname, strings.ToLower(p))
		if d < bestD {
			best, bestD = p, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return best
	}
	return ""
}

// Closest returns the candidate nearest to name (case-insensitive edit
// distance), when it is near enough to be a likely misspelling; else "".
func Closest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	lname := strings.ToLower(name)
	for _, c := range candidates {
		if d := editDistance(lname, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD <= max(2, len(name)/6) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ErrUnknownModel is returned for a model type bulkprov does not know.
func ErrUnknownModel(name string) error {
	return fmt.Errorf("unknown model type %q (known: %s)", name, strings.Join(Names(), ", "))
}
