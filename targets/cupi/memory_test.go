package cupi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
)

// A 200 MiB list answer is read in bounded memory (issue 23): one giant
// field costs about twice its size (the decoder's buffer and the string),
// a page of far more users than asked is refused after the rows asked.
// Heavy (200 MiB bodies), so run on demand:
//
//	BULKPROV_MEM=one  go test ./targets/cupi -run TestListMemory -v
//	BULKPROV_MEM=many go test ./targets/cupi -run TestListMemory -v
//
// Heap in use above the baseline, at apply's GOGC 15: before, 600–808 MiB and
// about 1,070 MiB; after, 384 MiB (1.9×) and 1 MiB.
func TestListMemory(t *testing.T) {
	if os.Getenv("BULKPROV_MEM") == "" {
		t.Skip("set BULKPROV_MEM=one or many")
	}
	big := []byte(`{"@total":"1","User":{"Alias":"a","ObjectId":"1","FirstName":"` + strings.Repeat("x", 200<<20) + `"}}`)
	if os.Getenv("BULKPROV_MEM") == "many" {
		var b strings.Builder
		b.WriteString(`{"@total":"1000000","User":[`)
		for i := 0; b.Len() < 200<<20; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"Alias":"user` + strings.Repeat("y", 150) + `","ObjectId":"` + strings.Repeat("1", 36) + `","FirstName":"F","LastName":"L","DtmfAccessId":"12345"}`)
		}
		b.WriteString("]}")
		big = []byte(b.String())
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(big)
	}))
	defer ts.Close()
	hc, _ := targets.NewHTTPClient(targets.HTTPOptions{})
	c := cupi.New(ts.URL, hc, targets.Credentials{User: "a", Password: "b"})
	// As apply runs (cmd/bulkprov/memory.go: GOGC 15).
	defer debug.SetGCPercent(debug.SetGCPercent(15))
	runtime.GC()
	var peak uint64
	done := make(chan bool)
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			default:
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak {
				peak = m.HeapInuse
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	err := c.ListUsers(context.Background(), func(cupi.Object) error { return nil })
	close(done)
	used := (peak - min(peak, base.HeapInuse)) >> 20
	t.Logf("err %v; heap in use before %d MiB, peak %d MiB: %d MiB for a %d MiB answer", err, base.HeapInuse>>20, peak>>20, used, len(big)>>20)
	if limit := uint64(len(big)>>20) * 5 / 2; used > limit {
		t.Errorf("%d MiB in use for a %d MiB answer, want at most %d", used, len(big)>>20, limit)
	}
}
