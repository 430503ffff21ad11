package cupi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// listServer serves n users, paged by rowsPerPage/pageNumber, with or
// without @total (a server that does only the documented minimum).
func listServer(t *testing.T, n int, withTotal bool) (*httptest.Server, *int) {
	var mu sync.Mutex
	requests := 0
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		size, _ := strconv.Atoi(r.URL.Query().Get("rowsPerPage"))
		page, _ := strconv.Atoi(r.URL.Query().Get("pageNumber"))
		var users []map[string]string
		for i := (page - 1) * size; i < min(n, page*size); i++ {
			users = append(users, map[string]string{"Alias": fmt.Sprintf("u%04d", i), "ObjectId": fmt.Sprint(i)})
		}
		body := map[string]any{"User": users}
		if withTotal {
			body["@total"] = strconv.Itoa(n)
		}
		w.Header().Set("Content-Type", "application/json")
		b, _ := jsonMarshal(body)
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s, &requests
}

// Every user is listed, whatever the page size and whether the server
// says the total: a server without @total is read until a short page.
func TestListUsersPages(t *testing.T) {
	for _, c := range []struct {
		n, size   int
		withTotal bool
	}{
		{0, 10, true}, {7, 10, true}, {10, 10, true}, {25, 10, true},
		{0, 10, false}, {7, 10, false}, {10, 10, false}, {25, 10, false},
	} {
		t.Run(fmt.Sprintf("%d users, pages of %d, total %v", c.n, c.size, c.withTotal), func(t *testing.T) {
			s, _ := listServer(t, c.n, c.withTotal)
			cl := cupi.New(s.URL, http.DefaultClient, targets.Credentials{User: "u", Password: "p"})
			cl.PageSize = c.size
			seen := map[string]bool{}
			if err := cl.ListUsers(context.Background(), func(o cupi.Object) error { seen[o["Alias"]] = true; return nil }); err != nil {
				t.Fatal(err)
			}
			if len(seen) != c.n {
				t.Errorf("listed %d users, want %d", len(seen), c.n)
			}
		})
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
