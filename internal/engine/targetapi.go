package engine

import (
	"context"

	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// VOSSAPI is what the engine asks of VOSS Automate. *voss.Client
// implements it; tests and other targets may bring their own.
type VOSSAPI interface {
	List(ctx context.Context, model, hierarchy string, filter [2]string, fn func(voss.Summary) error) error
	Get(ctx context.Context, model, pkid string) (*voss.Instance, error)
	Export(ctx context.Context, model, hierarchy string, pkids []string, fn func(voss.Instance) error) error
	Create(ctx context.Context, model, hierarchy string, data map[string]any, onTx func(string)) (voss.WriteResult, error)
	Update(ctx context.Context, model, pkid, hierarchy string, data map[string]any, onTx func(string)) (voss.WriteResult, error)
	Delete(ctx context.Context, model, pkid, hierarchy string, onTx func(string)) (voss.WriteResult, error)
	Wait(ctx context.Context, txID string) (string, error)
	Roles(ctx context.Context, hierarchy string) ([]string, error)
	HierarchyNodes(ctx context.Context) (map[string]bool, error)
}

// CUPIAPI is what the engine asks of one Unity Connection cluster.
// *cupi.Client implements it.
type CUPIAPI interface {
	// UsersPage reads one page (from 1) of the user list; it returns the
	// list's total (-1 when the server does not say) and the users the
	// page held (cupi.LastPage tells when a list ends).
	UsersPage(ctx context.Context, page int, fn func(cupi.Object) error) (total, n int, err error)
	FindUser(ctx context.Context, alias string) (cupi.Object, error)
	GetUser(ctx context.Context, id string) (cupi.Object, error)
	CreateUser(ctx context.Context, template string, fields cupi.Object) (string, error)
	UpdateUser(ctx context.Context, id string, fields cupi.Object) error
	DeleteUser(ctx context.Context, id string) error
	Credential(ctx context.Context, id, kind string) (cupi.Object, error)
	SetCredential(ctx context.Context, id, kind string, fields cupi.Object) error
	UserRoles(ctx context.Context, id string) ([]cupi.Object, error)
	AddUserRole(ctx context.Context, id, roleID string) (string, error)
	DeleteUserRole(ctx context.Context, id, urID string) error
	Roles(ctx context.Context) ([]cupi.Object, error)
	CredentialPolicies(ctx context.Context) ([]cupi.Object, error)
	UserTemplates(ctx context.Context) ([]cupi.Object, error)
	AuthzServers(ctx context.Context) ([]cupi.Object, error)
	CreateAuthzServer(ctx context.Context, fields cupi.Object) (string, error)
	UpdateAuthzServer(ctx context.Context, id string, fields cupi.Object) error
	DeleteAuthzServer(ctx context.Context, id string) error
}

var (
	_ VOSSAPI = (*voss.Client)(nil)
	_ CUPIAPI = (*cupi.Client)(nil)
)
