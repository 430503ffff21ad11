package sim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// kind is the JSON type of a field in a model's schema.
type kind int

const (
	str kind = iota
	boolean
	integer
	object
	array
)

// field is one attribute of a model as the API reference pages describe
// it (seed 001 for data/User, seed 002 for relation/HcsAdminUserREL). The
// simulator keeps its own copy of these rules so that it never shares a
// mistake with the client's schema.
type field struct {
	name     string
	kind     kind
	required bool
	secret   bool // is_password / write-only: stored hashed, never read back
	readOnly bool
	maxLen   int
	pattern  *regexp.Regexp
	fields   []*field
}

func (f *field) child(name string) *field {
	for _, c := range f.fields {
		if c.name == name { // field names are case-sensitive on the wire
			return c
		}
	}
	return nil
}

// model is one model type the simulator serves.
type model struct {
	name string
	key  string // business key, unique within a hierarchy
	root *field
	// role returns the role a payload names (to check it names a data/Role).
	role func(data map[string]any) string
}

func userFields() []*field {
	return []*field{
		{name: "username", kind: str, required: true},
		{name: "email", kind: str},
		{name: "first_name", kind: str},
		{name: "last_name", kind: str},
		{name: "password", kind: str, secret: true, pattern: regexp.MustCompile(`^(?:.{8,})$`)},
		{name: "role", kind: str, required: true},
		{name: "language", kind: str},
		{name: "set_language", kind: boolean},
		{name: "account_information", kind: object, fields: []*field{
			{name: "change_password_on_login", kind: boolean},
			{name: "locked", kind: boolean},
			{name: "disabled", kind: boolean},
			{name: "reason_for_disabled", kind: str},
			{name: "credential_policy", kind: str},
			{name: "failed_login_lock_date", kind: str},
			{name: "password_last_change_time", kind: str, readOnly: true},
			{name: "password_last_change_time_by_user", kind: str, readOnly: true},
			{name: "last_login_time", kind: str, readOnly: true},
			{name: "num_of_failed_login_attempts", kind: integer},
			{name: "security_questions", kind: array, fields: []*field{
				{name: "question", kind: str, required: true, maxLen: 128},
				{name: "answer", kind: str, required: true, maxLen: 128, secret: true},
			}},
			{name: "used_passwords", kind: array, fields: []*field{
				{name: "password", kind: str, secret: true},
				{name: "time_created", kind: str},
			}},
		}},
	}
}

// Model names the simulator serves.
const (
	modelUser  = "data/User"
	modelAdmin = "relation/HcsAdminUserREL"
)

var models = map[string]*model{
	modelUser: {name: modelUser, key: "username", root: &field{kind: object, fields: userFields()},
		role: func(d map[string]any) string { r, _ := d["role"].(string); return r }},
	modelAdmin: {name: modelAdmin, key: "hcsUname", root: &field{kind: object, fields: []*field{
		{name: "hcsUname", kind: str, required: true, maxLen: 1024},
		{name: "AdminUser", kind: object, required: true, fields: userFields()},
	}}, role: func(d map[string]any) string {
		au, _ := d["AdminUser"].(map[string]any)
		r, _ := au["role"].(string)
		return r
	}},
}

// check validates data against f, wording its message as the API's
// validation errors do. It never echoes a value.
func check(f *field, data map[string]any, prefix string) string {
	for k, v := range data {
		c := f.child(k)
		p := prefix + k
		if c == nil {
			return fmt.Sprintf("Additional properties are not allowed (%s was unexpected)", p)
		}
		if c.readOnly {
			return fmt.Sprintf("%s: read only attribute", p)
		}
		if v == nil {
			continue
		}
		if msg := checkValue(c, v, p); msg != "" {
			return msg
		}
	}
	for _, c := range f.fields {
		if v, ok := data[c.name]; c.required && (!ok || v == nil || v == "") {
			return fmt.Sprintf("%s%s: This field is required.", prefix, c.name)
		}
	}
	return ""
}

// checkValue validates one non-nil value v of field c at path p.
func checkValue(c *field, v any, p string) string {
	switch c.kind {
	case object:
		sub, ok := v.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: is not of type 'object'", p)
		}
		return check(c, sub, p+".")
	case array:
		arr, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("%s: is not of type 'array'", p)
		}
		for i, el := range arr {
			sub, ok := el.(map[string]any)
			if !ok {
				return fmt.Sprintf("%s.%d: is not of type 'object'", p, i)
			}
			if msg := check(c, sub, fmt.Sprintf("%s.%d.", p, i)); msg != "" {
				return msg
			}
		}
	case boolean:
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("%s: is not of type 'boolean'", p)
		}
	case integer:
		n, ok := v.(json.Number)
		if ok {
			_, err := n.Int64()
			ok = err == nil
		}
		if !ok {
			return fmt.Sprintf("%s: is not of type 'integer'", p)
		}
	default:
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("%s: is not of type 'string'", p)
		}
		if c.maxLen > 0 && len([]rune(s)) > c.maxLen {
			return fmt.Sprintf("%s: is too long (maximum length %d)", p, c.maxLen)
		}
		if c.pattern != nil && !c.pattern.MatchString(s) {
			return fmt.Sprintf("%s: does not match '%s'", p, strings.TrimSuffix(strings.TrimPrefix(c.pattern.String(), "^(?:"), ")$"))
		}
	}
	return ""
}

// strip returns a copy of data without write-only fields.
func strip(f *field, data map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range data {
		c := f.child(k)
		if c == nil || c.secret {
			continue
		}
		switch t := v.(type) {
		case map[string]any:
			out[k] = strip(c, t)
		case []any:
			arr := make([]any, 0, len(t))
			for _, el := range t {
				if m, ok := el.(map[string]any); ok {
					arr = append(arr, strip(c, m))
				} else {
					arr = append(arr, el)
				}
			}
			out[k] = arr
		default:
			out[k] = v
		}
	}
	return out
}
