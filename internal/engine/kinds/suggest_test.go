package kinds

import (
	"testing"

	"github.com/bulkprov/bulkprov/targets/cupi"
)

func TestDidYouMean(t *testing.T) {
	roles := map[string]cupi.Object{"help desk administrator": {"RoleName": "Help Desk Administrator"}, "user administrator": {"RoleName": "User Administrator"}}
	if got := didYouMeanRole("Help Desk Admininstrator", roles); got != ` (did you mean "Help Desk Administrator"?)` {
		t.Errorf("got %q", got)
	}
	if got := didYouMeanRole("Audit Administrator", roles); got != "" {
		t.Errorf("a distant name got a suggestion: %q", got)
	}
	if got := didYouMean("AAAGlobalENTCustomerAdminstrator", map[string]bool{"AAAGlobalENTCustomerAdministrator": true}); got == "" {
		t.Error("no suggestion for a VOSS role")
	}
}
