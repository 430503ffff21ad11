// Package kinds is the kinds room of the engine: everything bulkprov
// knows about each kind of object, one type in one file (kind_voss.go,
// kind_cupiuser.go, kind_userrole.go, kind_credential.go, kind_authz.go)
// behind one interface (Kind, kinds.go): which server objects to read and
// how (ReadState reads them in bulk, asking each want's kind), the diff,
// the write and its write-time extras, the proof of a lost answer, the
// before-image, the undo and its place in the undo order. It also holds
// what the kinds work with: the targets (Targets, VOSSAPI, CUPIAPI, with
// their contracts), the options of a run and the state read. It knows
// nothing of plans, dispatch, journals or back-out files: the core
// (package engine) does, over Kind alone.
package kinds
