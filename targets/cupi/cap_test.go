package cupi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// A server whose page cap is below what the client asks may place a page
// by the rowsPerPage asked ((pageNumber-1) × rowsPerPage) while holding
// at most its cap: after a capped first page, the client asks the rest
// in pages of the size the server gave, so that both readings of the
// documents list every user, in the client's own list and page by page.
func TestPageCapBelowTheAsk(t *testing.T) {
	const n, capRows = 10, 3
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rows, _ := strconv.Atoi(r.URL.Query().Get("rowsPerPage"))
		page, _ := strconv.Atoi(r.URL.Query().Get("pageNumber"))
		var users []map[string]string
		for i := (page - 1) * rows; i < min(n, (page-1)*rows+min(rows, capRows)); i++ {
			users = append(users, map[string]string{"Alias": fmt.Sprintf("u%02d", i), "ObjectId": fmt.Sprint(i)})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"@total": strconv.Itoa(n), "User": users})
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := cupi.New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	seen := map[string]bool{}
	if err := c.ListUsers(context.Background(), func(o cupi.Object) error { seen[o["Alias"]] = true; return nil }); err != nil || len(seen) != n {
		t.Fatalf("ListUsers saw %d of %d users (%v)", len(seen), n, err)
	}
	// Page by page, as the engine reads them (page 1, then the others).
	c = cupi.New(ts.URL, hc, targets.Credentials{User: "u", Password: "p"})
	clear(seen)
	add := func(o cupi.Object) error { seen[o["Alias"]] = true; return nil }
	total, first, err := c.UsersPage(context.Background(), 1, add)
	if err != nil {
		t.Fatal(err)
	}
	for page := 2; page <= (total+first-1)/first; page++ {
		if _, _, err := c.UsersPage(context.Background(), page, add); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != n {
		t.Fatalf("page by page saw %d of %d users", len(seen), n)
	}
}
