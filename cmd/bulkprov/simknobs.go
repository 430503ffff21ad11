package main

import (
	"flag"
	"strings"
)

// listFlag is a flag that may be given several times, each value a
// comma-separated list: --voss-drop-field data/User:email,data/User:first_name.
type listFlag []string

var _ flag.Value = (*listFlag)(nil)

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// unkeptFlags are `bulkprov sim`'s knobs for a server that answers a write
// with success but does not keep what it was sent.
type unkeptFlags struct {
	vossDrop, vossLower, cupiDrop, cupiLower listFlag
}

func (u *unkeptFlags) register(fs *flag.FlagSet) {
	fs.Var(&u.vossDrop, "voss-drop-field", "misbehave: VOSS answers writes of `MODEL:FIELD` with success but does not keep them (e.g. data/User:email, relation/HcsAdminUserREL:AdminUser.email; repeatable, comma-separated)")
	fs.Var(&u.vossLower, "voss-lower-field", "misbehave: VOSS keeps `MODEL:FIELD` lower-cased (e.g. data/User:email; repeatable, comma-separated)")
	fs.Var(&u.cupiDrop, "cupi-drop-field", "misbehave: Unity Connection answers writes of `OBJECT:FIELD` with success but does not keep them; OBJECT is user, credential or authzserver (e.g. user:EmailAddress; repeatable, comma-separated)")
	fs.Var(&u.cupiLower, "cupi-lower-field", "misbehave: Unity Connection keeps `OBJECT:FIELD` lower-cased (e.g. user:EmailAddress; repeatable, comma-separated)")
}
