package main

import (
	"archive/zip"
	"bytes"
	"context"
	stdjson "encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/bulkprov/bulkprov/internal/engine"
	"github.com/bulkprov/bulkprov/internal/export"
	"github.com/bulkprov/bulkprov/loader"
	"github.com/bulkprov/bulkprov/targets/voss"
)

// codec is one JSON package under measurement, called the way bulkprov's
// hot paths call internal/jsonx.
type codec struct {
	name      string
	marshal   func(any) ([]byte, error)
	unmarshal func([]byte, any) error
	// decodeAny decodes one document as the loader's export reader does:
	// a Decoder with UseNumber, into an any.
	decodeAny func(io.Reader) (any, error)
}

var codecs = []codec{
	{"encoding/json", stdjson.Marshal, stdjson.Unmarshal, func(r io.Reader) (any, error) {
		d := stdjson.NewDecoder(r)
		d.UseNumber()
		var v any
		return v, d.Decode(&v)
	}},
	{"goccy/go-json", gojson.Marshal, gojson.Unmarshal, func(r io.Reader) (any, error) {
		d := gojson.NewDecoder(r)
		d.UseNumber()
		var v any
		return v, d.Decode(&v)
	}},
}

// benchUser is the field tree of one exported data/User, as the VOSS
// simulator holds the users of the export benchmark.
func benchUser(i int, h string) map[string]any {
	return map[string]any{"username": fmt.Sprintf("user%06d", i), "role": "User Administrator",
		"email": fmt.Sprintf("user%06d@example.com", i), "first_name": "First", "last_name": fmt.Sprintf("Last %d", i),
		"language": "en-us", "hierarchy_path": h,
		"account_information": map[string]any{"locked": i%2 == 0, "security_questions": []any{map[string]any{"question": "q", "answer": "a"}}}}
}

// jsonFixtures are the documents of the JSON benchmark: the export zip's
// entry, the items the export writer marshals, the VOSS list pages of the
// same users and the journal lines of their writes.
type jsonFixtures struct {
	zipPath      string
	entry        []byte
	items        []map[string]any
	itemBytes    int64
	pages        [][]byte
	pageBytes    int64
	entries      []engine.Entry
	journalBytes int64
}

// listPage is a VOSS list page as the client decodes it.
type listPage struct {
	Pagination struct {
		Skip  int `json:"skip"`
		Limit int `json:"limit"`
		Total int `json:"total"`
	} `json:"pagination"`
	Resources []struct {
		Pkid string         `json:"pkid"`
		Data map[string]any `json:"data"`
	} `json:"resources"`
}

// jsonJob is one hot path measured for every codec.
type jsonJob struct {
	name  string
	bytes int64
	run   func(c codec)
}

const (
	jsonBenchUsers     = 50000
	jsonBenchHierarchy = "sys.hcs.CS-P.CS-NB.AAAGlobal"
)

// makeJSONFixtures writes the export zip of n users under dir and builds
// the other documents from the same users.
func makeJSONFixtures(dir string, n int, h string) jsonFixtures {
	f := jsonFixtures{zipPath: filepath.Join(dir, "export.zip")}
	src := func(ctx context.Context, fn func(export.Item) error) error {
		for i := 0; i < n; i++ {
			if err := fn(export.Item{Hierarchy: h, Pkid: fmt.Sprintf("%024x", i), Data: benchUser(i, h)}); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := export.Write(context.Background(), f.zipPath, "data/User", h, src)
	must(err)
	f.entry = readFirstEntry(f.zipPath)

	// What the export writer marshals, one object per item.
	f.items = make([]map[string]any, n)
	for i := range f.items {
		f.items[i] = map[string]any{"meta": map[string]any{"model_type": "data/User", "pkid": fmt.Sprintf("%024x", i), "hierarchy": h,
			"business_key": map[string]any{"username": fmt.Sprintf("user%06d", i), "hierarchy": h}}, "data": benchUser(i, h)}
		f.itemBytes += marshalledSize(f.items[i])
	}
	// The VOSS list pages of the same users, PageLimit to a page.
	for skip := 0; skip < n; skip += voss.PageLimit {
		var res []any
		for i := skip; i < min(n, skip+voss.PageLimit); i++ {
			res = append(res, map[string]any{"pkid": fmt.Sprintf("%024x", i), "data": benchUser(i, h)})
		}
		b, _ := stdjson.Marshal(map[string]any{"pagination": map[string]any{"skip": skip, "limit": voss.PageLimit, "total": n}, "resources": res})
		f.pages = append(f.pages, b)
		f.pageBytes += int64(len(b))
	}
	// Journal lines: an intent and an outcome per user.
	f.entries = make([]engine.Entry, 0, 2*n)
	now := time.Now().UTC()
	for i := 0; i < n; i++ {
		op := fmt.Sprintf("%016x", i)
		f.entries = append(f.entries,
			engine.Entry{Type: "intent", Op: op, Kind: "voss-user", Key: fmt.Sprintf("user%06d", i), Time: now},
			engine.Entry{Type: "outcome", Op: op, Status: engine.Done, ID: fmt.Sprintf("%024x", i), Tx: fmt.Sprint(i), Time: now})
	}
	for _, e := range f.entries {
		f.journalBytes += marshalledSize(e) + 1
	}
	return f
}

func marshalledSize(v any) int64 {
	b, _ := stdjson.Marshal(v)
	return int64(len(b))
}

// readFirstEntry is the bytes of a zip's first entry.
func readFirstEntry(path string) []byte {
	zr, err := zip.OpenReader(path)
	must(err)
	defer zr.Close()
	rc, err := zr.File[0].Open()
	must(err)
	defer rc.Close()
	entry, err := io.ReadAll(rc)
	must(err)
	return entry
}

// jobs are the four hot paths over the fixtures.
func (f jsonFixtures) jobs() []jsonJob {
	n := len(f.items)
	return []jsonJob{
		{fmt.Sprintf("decode the export zip's entry (%d users), Decoder+UseNumber into any, as the loader", n), int64(len(f.entry)), func(c codec) {
			_, err := c.decodeAny(bytes.NewReader(f.entry))
			must(err)
		}},
		{fmt.Sprintf("encode the %d export items, Marshal per item, as the export writer", n), f.itemBytes, func(c codec) {
			for _, it := range f.items {
				_, err := c.marshal(it)
				must(err)
			}
		}},
		{fmt.Sprintf("decode the %d VOSS list pages (%d users), Unmarshal into the page struct", len(f.pages), n), f.pageBytes, func(c codec) {
			for _, p := range f.pages {
				var lp listPage
				must(c.unmarshal(p, &lp))
			}
		}},
		{fmt.Sprintf("encode %d journal lines, Marshal per line", len(f.entries)), f.journalBytes, func(c codec) {
			for _, e := range f.entries {
				_, err := c.marshal(e)
				must(err)
			}
		}},
	}
}

// bestOf3 is the fastest of three alternating testing.Benchmark runs of
// the job, per codec.
func bestOf3(j jsonJob) []testing.BenchmarkResult {
	best := make([]testing.BenchmarkResult, len(codecs))
	for round := 0; round < 3; round++ {
		for ci, c := range codecs {
			r := testing.Benchmark(func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(j.bytes)
				for b.Loop() {
					j.run(c)
				}
			})
			if round == 0 || r.NsPerOp() < best[ci].NsPerOp() {
				best[ci] = r
			}
		}
	}
	return best
}

// printJSONRows prints one table row per codec, with ratios to the first.
func printJSONRows(j jsonJob, best []testing.BenchmarkResult) {
	base := best[0]
	for ci, r := range best {
		mbs := float64(j.bytes) / 1e6 / (float64(r.NsPerOp()) / 1e9)
		ratio := func(a, b int64) string {
			if ci == 0 {
				return "1.00"
			}
			return fmt.Sprintf("**%.2f**", float64(a)/float64(max(b, 1)))
		}
		name, size := j.name, fmt.Sprintf("%.1f", float64(j.bytes)/(1<<20))
		if ci > 0 {
			name, size = "", ""
		}
		fmt.Printf("| %s | %s | %s | %v | %.0f | %d | %.1f | %s | %s | %s |\n", name, size, codecs[ci].name,
			time.Duration(r.NsPerOp()).Round(100*time.Microsecond), mbs, r.AllocsPerOp(), float64(r.AllocedBytesPerOp())/(1<<20),
			ratio(r.NsPerOp(), base.NsPerOp()), ratio(r.AllocsPerOp(), base.AllocsPerOp()), ratio(r.AllocedBytesPerOp(), base.AllocedBytesPerOp()))
	}
}

// benchJSON measures encoding/json against goccy/go-json (the codec behind
// internal/jsonx) on the JSON hot paths, with a 50,000-user export: the
// export zip's entry decoded as the loader decodes it, the same items
// encoded as the export writer encodes them, the VOSS list pages of the
// same users, and journal lines.
func benchJSON(dir string) {
	f := makeJSONFixtures(dir, jsonBenchUsers, jsonBenchHierarchy)
	jobs := f.jobs()
	fmt.Printf("\n## JSON codec: encoding/json vs goccy/go-json (internal/jsonx), a %d-user export\n\n", jsonBenchUsers)
	fmt.Printf("Best of 3 alternating runs of testing.Benchmark each. Ratios are go-json / encoding/json (below 1 is better).\n\n")
	fmt.Printf("| path | MiB | codec | time/op | MB/s | allocs/op | MiB alloc/op | time ratio | allocs ratio | bytes ratio |\n|---|---|---|---|---|---|---|---|---|---|\n")
	var decodeNs [2]int64 // the export entry's decode, per codec
	for i, j := range jobs {
		best := bestOf3(j)
		if i == 0 {
			decodeNs = [2]int64{best[0].NsPerOp(), best[1].NsPerOp()}
		}
		printJSONRows(j, best)
	}
	// The whole reader, now on go-json, for scale: what share of it is JSON.
	s := time.Now()
	cnt := 0
	must(loader.Read(f.zipPath, bigLimits, func(*loader.Record) error { cnt++; return nil }, func(p loader.Problem) { panic(p.String()) }))
	took := time.Since(s)
	saved := time.Duration(decodeNs[0] - decodeNs[1])
	fmt.Printf("\nFor scale: loader.Read of the whole export zip (%d records: unzip, depth check, decode, records) takes %v with go-json;"+
		" the decode above is %.0f%% of it, and encoding/json's would make it about %v (%.0f%% longer).\n",
		cnt, took.Round(time.Millisecond), 100*float64(decodeNs[1])/float64(took), (took + saved).Round(time.Millisecond), 100*float64(saved)/float64(took))
}
