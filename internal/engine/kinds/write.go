package kinds

import (
	"github.com/bulkprov/bulkprov/internal/engine/plan"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

func flat(body map[string]any) cupi.Object {
	o := cupi.Object{}
	for k, v := range body {
		o[k] = plan.Norm(v)
	}
	return o
}

// withSecrets returns the body with the op's secret values put back in.
func withSecrets(op *Op) map[string]any {
	body := op.SendBody()
	if op.Body != nil || body == nil {
		body = plan.CopyTree(body) // never the plan's own tree; never nil
	}
	for p, v := range op.Secrets.All() {
		plan.SetDotted(body, p, v)
	}
	return body
}

// maxVerifyGets bounds the instances fetched one by one when a VOSS list
// does not carry the business key.
const maxVerifyGets = 50
