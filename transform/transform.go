// Package transform maps each loaded row onto the desired state of the
// objects it governs on VOSS Automate and Unity Connection: a data/User row
// becomes the VOSS user plus the CUPI user, its roles and its password (and
// PIN) credential; a relation/HcsAdminUserREL row the VOSS relation; a
// cupi/User row the CUPI user, roles and credentials; a cupi/AuthzServer
// row an authorization server. Hierarchy, role and policy renames come
// from the Config. References are resolved later, against the servers,
// by the engine.
package transform

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/schema"
	"github.com/bulkprov/bulkprov/loader"
)

// Kinds of object an operation acts on (the report's "kind"); the engine
// owns them.
const (
	KindUser     = engine.KindUser
	KindAdminREL = engine.KindAdminREL
	KindCUPIUser = engine.KindCUPIUser
	KindUserRole = engine.KindUserRole
	KindPassword = engine.KindPassword
	KindPIN      = engine.KindPIN
	KindAuthz    = engine.KindAuthz
)

// Want is the desired state of one object: the engine's input.
type Want = engine.Want

// Row is one input record's wants, with its source location as a plain
// value (the engine knows nothing of the loader).
type Row = engine.Row

// CopyTree returns a deep copy of a field tree (objects and arrays).
func CopyTree(m map[string]any) map[string]any { return engine.CopyTree(m) }

// Options tune the mapping.
type Options struct {
	ExactRoles bool // data/User rows: remove CUPI roles the VOSS role does not map to
	// Secrets supplies write-only values an export cannot carry, by
	// lower-cased business key and field path (from --secrets).
	Secrets map[string]map[string]string
}

// Map turns a record into its row of wants.
func Map(rec *loader.Record, cfg *Config, o Options) Row {
	row := Row{Source: engine.Source(rec.Loc), Model: rec.Model}
	switch rec.Model {
	case schema.User:
		row.Wants = mapUser(rec, cfg, o)
	case schema.AdminUserREL:
		row.Wants = []Want{mapVOSS(rec, cfg, o)}
	case schema.CUPIUser:
		row.Wants = mapCUPIUser(rec, cfg)
	case schema.CUPIAuthz:
		row.Wants = []Want{mapAuthz(rec)}
	default:
		row.Wants = []Want{{Target: "voss", Kind: rec.Model, Key: loader.Key(rec), Err: "no mapping for model " + rec.Model}}
	}
	// The CUPI part of a row goes to the cluster of its hierarchy: a VOSS
	// model's (after renames and the default), or a CUPI block's
	// hierarchy or # Hierarchy Node, else --cupi.
	h := routingHierarchy(rec, cfg)
	cluster := cfg.Cluster(h)
	for i := range row.Wants {
		if w := &row.Wants[i]; w.Target == "cupi" {
			w.Cluster = cluster
			if cluster == DefaultCluster && len(cfg.CUPIClusters) > 0 {
				if w.CUPI == nil {
					w.CUPI = new(engine.CUPIWant)
				}
				w.CUPI.ClusterHierarchy = h
			}
		}
	}
	// The row is held until it is planned: no spare wants (issue 14).
	if cap(row.Wants) > len(row.Wants) {
		row.Wants = slices.Clone(row.Wants)
	}
	return row
}

// routingHierarchy is the hierarchy that routes a row to its Unity
// Connection cluster: a VOSS model's (after renames, else the default),
// a CUPI block's hierarchy or # Hierarchy Node (after renames), else none.
func routingHierarchy(rec *loader.Record, cfg *Config) string {
	h := rec.Hierarchy
	if h != "" || schema.Get(rec.Model) == nil || schema.Get(rec.Model).Target == "voss" {
		h = cfg.Hierarchy(h)
	}
	return h
}

// RowCluster names the Unity Connection cluster a record belongs to
// (DefaultCluster for --cupi): its CUPI part goes there, and with
// --shard its VOSS part goes with it.
func RowCluster(rec *loader.Record, cfg *Config) string {
	return cfg.Cluster(routingHierarchy(rec, cfg))
}

// splitSecrets moves the schema's secret leaves out of a field tree into
// secrets, by path.
func splitSecrets(f *schema.Field, tree map[string]any, prefix string, secrets *engine.Secrets) {
	for k, v := range tree {
		c := f.Child(k)
		if c == nil {
			continue
		}
		p := prefix + k
		switch t := v.(type) {
		case map[string]any:
			splitSecrets(c, t, p+".", secrets)
		case []any:
			for i, el := range t {
				if m, ok := el.(map[string]any); ok {
					splitSecrets(c, m, fmt.Sprintf("%s.[%d].", p, i), secrets)
				}
			}
		case string:
			if c.Secret {
				secrets.Set(p, t)
				delete(tree, k)
			}
		}
	}
}

func mapVOSS(rec *loader.Record, cfg *Config, o Options) Want {
	m := schema.Get(rec.Model)
	fields := CopyTree(rec.Fields)
	var secrets engine.Secrets
	splitSecrets(m.Root, fields, "", &secrets)
	if k, ok := fields[m.Key].(string); ok {
		for p, v := range o.Secrets[strings.ToLower(k)] {
			if _, set := secrets.Get(p); !set {
				secrets.Set(p, v)
			}
		}
	}
	h := cfg.Hierarchy(rec.Hierarchy)
	renameRole(fields, cfg)
	if rec.Model == schema.AdminUserREL {
		if au, ok := fields["AdminUser"].(map[string]any); ok {
			renameRole(au, cfg)
		}
	}
	keyVal, _ := fields[m.Key].(string)
	v := &engine.VOSSWant{Model: rec.Model, Hierarchy: h, KeyValue: keyVal, Pkid: rec.Pkid}
	w := Want{Target: "voss", Kind: rec.Model, Fields: fields, Secrets: secrets, VOSS: v}
	// A pkid is only valid on the system it came from: JSON items are
	// matched by business key (the VOSS import rule), and a row whose
	// hierarchy is renamed is bound for another tenant.
	if rec.Action == loader.Upsert || h != rec.Hierarchy {
		v.Pkid = ""
	}
	for k, s := range rec.Search {
		if strings.EqualFold(k, m.Key) {
			v.SearchKey = s
		}
	}
	if keyVal == "" {
		v.KeyValue = v.SearchKey
	}
	w.Key = h + "/" + v.KeyValue
	switch rec.Action {
	case loader.Delete:
		w.Delete = true
		w.Fields, w.Secrets = nil, engine.Secrets{}
	case loader.Modify:
		w.MustExist = true
	}
	if h == "" {
		w.Err = "no hierarchy for this row (set one in the sheet or defaultHierarchy in --config)"
	}
	return w
}

func renameRole(fields map[string]any, cfg *Config) {
	if r, ok := fields["role"].(string); ok {
		if to, ok := cfg.VOSSRoles[r]; ok {
			fields["role"] = to
		}
	}
}

func boolText(v any) (string, bool) {
	switch t := v.(type) {
	case bool:
		return strconv.FormatBool(t), true
	case string:
		if b, ok := loader.ParseBool(t); ok {
			return strconv.FormatBool(b), true
		}
	}
	return "", false
}

func mapUser(rec *loader.Record, cfg *Config, o Options) []Want {
	voss := mapVOSS(rec, cfg, o)
	pin, hasPin := voss.Secrets.Get("pin")
	voss.Secrets.Delete("pin")
	ext, _ := rec.Fields["DtmfAccessId"].(string)
	if voss.Fields != nil {
		delete(voss.Fields, "DtmfAccessId")
	}
	wants := []Want{voss}
	alias := voss.VOSS.KeyValue
	if alias == "" {
		return wants
	}
	role, hasRole := rec.Fields["role"].(string)
	ai, _ := rec.Fields["account_information"].(map[string]any)
	password, hasPassword := voss.Secrets.Get("password")
	if rec.Action == loader.Delete {
		// The CUPI user keeps its mailbox; only the roles its VOSS role
		// grants are removed. A row that does not name the role removes
		// those of the role the VOSS user has now (RolesOf).
		w := Want{Target: "cupi", Kind: KindUserRole, Key: alias, Alias: alias, Delete: true}
		if hasRole {
			w.Roles = cfg.CUPIRoles(role)
		} else {
			w.CUPI = &engine.CUPIWant{RolesOf: cfg.CUPIRoles}
			w.VOSS = voss.VOSS // the VOSS user whose role RolesOf maps
		}
		return append(wants, w)
	}
	credFields, policy := credentialFields(ai, cfg)
	touchesCUPI := rec.Action != loader.Modify || hasRole || hasPassword || hasPin || ext != "" || len(credFields) > 0 || policy != ""
	if !touchesCUPI {
		return wants
	}
	wants = append(wants, cupiUserWant(rec, cfg, alias, ext))
	if hasRole {
		wants = append(wants, Want{Target: "cupi", Kind: KindUserRole, Key: alias, Alias: alias, Roles: cfg.CUPIRoles(role), ExactRoles: o.ExactRoles})
	}
	if len(credFields) > 0 || policy != "" || hasPassword {
		w := Want{Target: "cupi", Kind: KindPassword, Key: alias, Alias: alias, Fields: credFields}
		if policy != "" {
			w.CUPI = &engine.CUPIWant{PolicyName: policy}
		}
		if hasPassword {
			w.Secrets = engine.SecretsOf("Credentials", password)
		}
		wants = append(wants, w)
	}
	if hasPin {
		wants = append(wants, Want{Target: "cupi", Kind: KindPIN, Key: alias, Alias: alias, Secrets: engine.SecretsOf("Credentials", pin)})
	}
	return wants
}

// credentialFields maps a row's account_information to the CUPI password
// settings it sets (nil when none) and the credential policy it names.
func credentialFields(ai map[string]any, cfg *Config) (map[string]any, string) {
	credFields := map[string]any{}
	policy := ""
	if ai != nil {
		if v, ok := boolText(ai["locked"]); ok {
			credFields["Locked"] = v
		}
		if v, ok := boolText(ai["change_password_on_login"]); ok {
			credFields["CredMustChange"] = v
		}
		if p, ok := ai["credential_policy"].(string); ok && p != "" {
			policy = cfg.CUPIPolicy(p)
		}
	}
	if len(credFields) == 0 {
		credFields = nil // a want holds no empty map
	}
	return credFields, policy
}

// cupiUserWant is the CUPI user a row wants, with what creates it: the
// template, alias, extension and names (or why it cannot be created).
func cupiUserWant(rec *loader.Record, cfg *Config, alias, ext string) Want {
	create := &engine.CUPIWant{Template: cfg.Template(), CreateFields: make(engine.Pairs, 0, 4)}
	user := Want{Target: "cupi", Kind: KindCUPIUser, Key: alias, Alias: alias, CUPI: create}
	create.CreateFields.Set("Alias", alias)
	if ext != "" {
		create.CreateFields.Set("DtmfAccessId", ext)
	} else {
		create.NoCreate = fmt.Sprintf("the CUPI user %s does not exist and the row has no DtmfAccessId to create it with", alias)
	}
	for src, dst := range map[string]string{"first_name": "FirstName", "last_name": "LastName"} {
		if v, ok := rec.Fields[src].(string); ok && v != "" {
			create.CreateFields.Set(dst, v)
		}
	}
	return user
}

func str(m map[string]any, k string) (string, bool) {
	v, ok := m[k]
	if !ok {
		return "", false
	}
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	}
	return fmt.Sprint(v), true
}

func mapCUPIUser(rec *loader.Record, cfg *Config) []Want {
	alias, _ := str(rec.Fields, "Alias")
	create := &engine.CUPIWant{Template: cfg.Template(), CreateFields: engine.Pairs{{Name: "Alias", Value: alias}}}
	user := Want{Target: "cupi", Kind: KindCUPIUser, Key: alias, Alias: alias, Fields: map[string]any{}, CUPI: create}
	if t, ok := str(rec.Fields, "Template"); ok && t != "" {
		create.Template = t
	}
	for _, f := range []string{"DtmfAccessId", "FirstName", "LastName", "DisplayName", "EmailAddress"} {
		if v, ok := str(rec.Fields, f); ok {
			user.Fields[f] = v
			if v != "" {
				create.CreateFields.Set(f, v)
			}
		}
	}
	switch rec.Action {
	case loader.Delete:
		user.Delete, user.Fields = true, nil
		return []Want{user}
	case loader.Modify:
		user.MustExist = true
	}
	if ext, _ := create.CreateFields.Get("DtmfAccessId"); ext == "" {
		create.NoCreate = fmt.Sprintf("the CUPI user %s does not exist and the row has no DtmfAccessId to create it with", alias)
	}
	wants := []Want{user}
	if roles, ok := str(rec.Fields, "Roles"); ok {
		var names []string
		for _, r := range strings.Split(roles, ";") {
			if r = strings.TrimSpace(r); r != "" {
				names = append(names, r)
			}
		}
		sort.Strings(names)
		wants = append(wants, Want{Target: "cupi", Kind: KindUserRole, Key: alias, Alias: alias, Roles: names, ExactRoles: true})
	}
	if pw, ok := str(rec.Fields, "Password"); ok {
		wants = append(wants, Want{Target: "cupi", Kind: KindPassword, Key: alias, Alias: alias, Secrets: engine.SecretsOf("Credentials", pw)})
	}
	if pin, ok := str(rec.Fields, "Pin"); ok {
		wants = append(wants, Want{Target: "cupi", Kind: KindPIN, Key: alias, Alias: alias, Secrets: engine.SecretsOf("Credentials", pin)})
	}
	return wants
}

func mapAuthz(rec *loader.Record) Want {
	name, _ := str(rec.Fields, "DisplayName")
	w := Want{Target: "cupi", Kind: KindAuthz, Key: name, Fields: map[string]any{}}
	for _, f := range []string{"ServerNodeAddress", "Port", "ServerUsername", "IgnoreCertificateError"} {
		if v, ok := str(rec.Fields, f); ok {
			w.Fields[f] = v
		}
	}
	if pw, ok := str(rec.Fields, "ServerPassword"); ok {
		w.Secrets.Set("ServerPassword", pw)
	}
	switch rec.Action {
	case loader.Delete:
		w.Delete, w.Fields, w.Secrets = true, nil, engine.Secrets{}
	case loader.Modify:
		w.MustExist = true
	}
	return w
}
