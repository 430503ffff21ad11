package kinds

import (
	"context"

	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// VOSSAPI is what the engine asks of VOSS Automate. *voss.Client
// implements it; tests and other targets may bring their own.
//
// Contract, for every method: safe for concurrent use; no retries of its
// own (the engine calls each under the VOSS limiter with pace.Retry, so a
// retry is a whole call again); ctx cancels the request. Errors are
// classified by targets.Classify: 401/403 and certificate errors are
// Fatal (access refused: the run stops); 429/503 Throttled and connection
// errors, timeouts of a read and other 5xx to a read Transient (retried,
// then fatal); a 5xx to a write, or a write's connection lost after it
// was sent, Unknown (*targets.UnknownOutcomeError: the write may have
// landed — verified by reading, never resent blindly); Canceled when ctx
// is; anything else Permanent (never retried). A read of a missing object
// returns an error wrapping targets.ErrNotFound.
type VOSSAPI interface {
	// List calls fn, in this goroutine, with each instance summary of
	// model at hierarchy and below, page after page; filter {field, text}
	// is a hint a server may ignore, so the caller compares the field.
	// Idempotent (a read). An error from fn stops it and is returned; a
	// retry lists from the start again.
	List(ctx context.Context, model, hierarchy string, filter [2]string, fn func(voss.Summary) error) error
	// Get returns the full instance with pkid. Idempotent.
	Get(ctx context.Context, model, pkid string) (*voss.Instance, error)
	// Export calls fn with the full instances of pkids (a bulk export,
	// one request per batch of voss.ExportBatch). Idempotent.
	Export(ctx context.Context, model, hierarchy string, pkids []string, fn func(voss.Instance) error) error
	// Create adds an instance and returns its pkid once its transaction
	// ended; onTx gets the transaction id as soon as it is known (an
	// asynchronous write), from this goroutine. Not idempotent: twice
	// makes a duplicate refusal (Permanent) or a second instance. A
	// transaction that ended in failure is *voss.TxFailed (Permanent).
	Create(ctx context.Context, model, hierarchy string, data map[string]any, onTx func(string)) (voss.WriteResult, error)
	// Update sets the given fields of instance pkid. Idempotent (the
	// same fields again change nothing); errors as Create.
	Update(ctx context.Context, model, pkid, hierarchy string, data map[string]any, onTx func(string)) (voss.WriteResult, error)
	// Delete removes instance pkid. Not idempotent in its answer: a
	// second delete is refused (404, Permanent); errors as Create.
	Delete(ctx context.Context, model, pkid, hierarchy string, onTx func(string)) (voss.WriteResult, error)
	// Wait polls transaction txID until it ends and returns the pkid it
	// names, if any. Idempotent. A transaction that failed is
	// *voss.TxFailed; one the server no longer knows wraps
	// targets.ErrNotFound.
	Wait(ctx context.Context, txID string) (string, error)
	// Roles returns the role names visible at hierarchy. Idempotent.
	Roles(ctx context.Context, hierarchy string) ([]string, error)
	// HierarchyNodes returns the hierarchy paths that exist; a nil map
	// means the server did not say. Idempotent.
	HierarchyNodes(ctx context.Context) (map[string]bool, error)
}

// CUPIAPI is what the engine asks of one Unity Connection cluster.
// *cupi.Client implements it.
//
// Contract, for every method: as VOSSAPI's — safe for concurrent use, no
// retries of its own (the engine runs each under the cluster's limiter
// with pace.Retry), errors classified by targets.Classify (Fatal on
// 401/403, Throttled on 429/503, Transient for connection errors and 5xx
// to a read, Unknown for a 5xx or a lost answer to a write, Permanent
// otherwise; a missing object wraps targets.ErrNotFound). Reads are
// idempotent; which writes are is said per method.
type CUPIAPI interface {
	// UsersPage reads one page (from 1) of the user list; it returns the
	// list's total (-1 when the server does not say) and the users the
	// page held (cupi.LastPage tells when a list ends). fn is called in
	// this goroutine.
	UsersPage(ctx context.Context, page int, fn func(cupi.Object) error) (total, n int, err error)
	// FindUser returns the user with alias, or targets.ErrNotFound.
	FindUser(ctx context.Context, alias string) (cupi.Object, error)
	// GetUser returns user id with every field the server sends.
	GetUser(ctx context.Context, id string) (cupi.Object, error)
	// CreateUser creates a user from template and returns its ObjectId.
	// Not idempotent: twice is refused as a duplicate alias or extension
	// (400, Permanent), so a lost answer is settled by FindUser.
	// An answer that names no id is an Unknown outcome.
	CreateUser(ctx context.Context, template string, fields cupi.Object) (string, error)
	// UpdateUser sets the given fields of user id. Idempotent.
	UpdateUser(ctx context.Context, id string, fields cupi.Object) error
	// DeleteUser deletes user id. Not idempotent in its answer: a
	// second delete is 404 (Permanent).
	DeleteUser(ctx context.Context, id string) error
	// Credential returns the settings of a user's password or PIN (kind
	// cupi.Password or cupi.PIN), with TimeChanged; never the secret.
	Credential(ctx context.Context, id, kind string) (cupi.Object, error)
	// SetCredential changes a credential's settings; a Credentials field
	// sets the secret. Settings alone are idempotent; a secret is not
	// (the server's history may refuse the same value again, Permanent),
	// so a lost answer is settled by TimeChanged, never by resending.
	SetCredential(ctx context.Context, id, kind string, fields cupi.Object) error
	// UserRoles lists the roles user id holds.
	UserRoles(ctx context.Context, id string) ([]cupi.Object, error)
	// AddUserRole grants role roleID to user id and returns the
	// user-role id. Not idempotent: a second grant may be refused or
	// make a second holding, so a lost answer is settled by UserRoles.
	AddUserRole(ctx context.Context, id, roleID string) (string, error)
	// DeleteUserRole removes user-role urID from user id. A second
	// delete is 404 (Permanent).
	DeleteUserRole(ctx context.Context, id, urID string) error
	// Roles, CredentialPolicies, UserTemplates and AuthzServers list the
	// cluster's roles, credential policies, user templates and
	// authorization servers.
	Roles(ctx context.Context) ([]cupi.Object, error)
	CredentialPolicies(ctx context.Context) ([]cupi.Object, error)
	UserTemplates(ctx context.Context) ([]cupi.Object, error)
	AuthzServers(ctx context.Context) ([]cupi.Object, error)
	// CreateAuthzServer creates an authorization server and returns its
	// id. Not idempotent: a second create may be refused or make a
	// second server, so a lost answer is settled by AuthzServers.
	CreateAuthzServer(ctx context.Context, fields cupi.Object) (string, error)
	// UpdateAuthzServer sets fields of authorization server id.
	// Idempotent.
	UpdateAuthzServer(ctx context.Context, id string, fields cupi.Object) error
	// DeleteAuthzServer deletes authorization server id. A second delete
	// is 404 (Permanent).
	DeleteAuthzServer(ctx context.Context, id string) error
}

// statically ensure that the clients implement the interfaces.
var (
	_ VOSSAPI = (*voss.Client)(nil)
	_ CUPIAPI = (*cupi.Client)(nil)
)
