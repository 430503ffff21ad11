package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

const vossUser = "/api/data/User/"

func (e *Env) hier() string {
	if e.Hierarchy == "" {
		return "sys"
	}
	return e.Hierarchy
}

// vossList is a VOSS list answer (seed 002).
type vossList struct {
	Pagination *struct {
		Skip         any `json:"skip"`
		Limit        any `json:"limit"`
		Total        any `json:"total"`
		MaximumLimit any `json:"maximum_limit"`
	} `json:"pagination"`
	Resources []struct {
		Pkid string         `json:"pkid"`
		Data map[string]any `json:"data"`
	} `json:"resources"`
}

func (e *Env) vossList(ctx context.Context, q url.Values) (*vossList, error) {
	q.Set("format", "json")
	a, err := e.do(ctx, req{method: http.MethodGet, path: vossUser, query: q})
	if err != nil {
		return nil, err
	}
	if err := want(a, 200); err != nil {
		return nil, err
	}
	var l vossList
	return &l, a.json(&l)
}

func (e *Env) firstUser(ctx context.Context) (string, error) {
	l, err := e.vossList(ctx, url.Values{"hierarchy": {e.hier()}, "limit": {"1"}})
	if err != nil {
		return "", err
	}
	if len(l.Resources) == 0 {
		return "", skip("no data/User at %s to read", e.hier())
	}
	return l.Resources[0].Pkid, nil
}

// vossCreate creates a data/User and returns the decoded answer.
func (e *Env) vossCreate(ctx context.Context, data map[string]any, nowait bool) (*answer, map[string]any, error) {
	q := url.Values{"hierarchy": {e.hier()}, "format": {"json"}}
	if nowait {
		q.Set("nowait", "true")
	}
	a, err := e.do(ctx, req{method: http.MethodPost, path: vossUser, query: q, body: data})
	if err != nil {
		return nil, nil, err
	}
	var m map[string]any
	if a.Status < 300 {
		if err := a.json(&m); err != nil {
			return a, nil, err
		}
	}
	return a, m, nil
}

func (e *Env) vossDelete(ctx context.Context, pkid string) error {
	a, err := e.do(ctx, req{method: http.MethodDelete, path: vossUser + pkid + "/", query: url.Values{"hierarchy": {e.hier()}, "format": {"json"}}})
	if err != nil {
		return err
	}
	return want(a, 200, 202, 204)
}

func (e *Env) vossUserData(name, password string) map[string]any {
	role := e.Role
	if role == "" {
		role = "Operator"
	}
	return map[string]any{"username": name, "role": role, "password": password, "first_name": "Conformance"}
}

// countKey returns how many data/User at the hierarchy have username name.
func (e *Env) countKey(ctx context.Context, name string) (int, string, error) {
	l, err := e.vossList(ctx, url.Values{"hierarchy": {e.hier()}, "filter_field": {"username"}, "filter_condition": {"equals"}, "filter_text": {name}})
	if err != nil {
		return 0, "", err
	}
	n, pkid := 0, ""
	for _, r := range l.Resources {
		if u, _ := r.Data["username"].(string); strings.EqualFold(u, name) {
			n, pkid = n+1, r.Pkid
		}
	}
	return n, pkid, nil
}

// VOSS is the table of documented VOSS Automate API behaviours.
var VOSS = []Check{
	{Name: "auth-required", ReadOnly: true, Doc: "a request without Basic credentials is refused with 401",
		Run: func(ctx context.Context, e *Env) error {
			a, err := e.do(ctx, req{method: http.MethodGet, path: vossUser, query: url.Values{"hierarchy": {e.hier()}, "format": {"json"}}, noAuth: true})
			if err != nil {
				return err
			}
			return want(a, 401)
		}},
	{Name: "hierarchy-required", ReadOnly: true, Doc: "a list without hierarchy= is refused with 400",
		Run: func(ctx context.Context, e *Env) error {
			a, err := e.do(ctx, req{method: http.MethodGet, path: vossUser, query: url.Values{"format": {"json"}}})
			if err != nil {
				return err
			}
			return want(a, 400)
		}},
	{Name: "list-pagination", ReadOnly: true, Doc: "a list answers {pagination: {skip, limit, total, maximum_limit}, resources: [...]} and caps limit at maximum_limit",
		Run: func(ctx context.Context, e *Env) error {
			l, err := e.vossList(ctx, url.Values{"hierarchy": {e.hier()}, "limit": {"1"}})
			if err != nil {
				return err
			}
			p := l.Pagination
			if p == nil || p.Total == nil || p.MaximumLimit == nil || p.Skip == nil || p.Limit == nil {
				return errors.New("pagination block missing or incomplete")
			}
			if l.Resources == nil {
				return errors.New("resources missing")
			}
			if len(l.Resources) > 1 {
				return fmt.Errorf("limit=1 answered %d resources", len(l.Resources))
			}
			big, err := e.vossList(ctx, url.Values{"hierarchy": {e.hier()}, "limit": {"1000000"}})
			if err != nil {
				return err
			}
			if big.Pagination == nil {
				return errors.New("pagination block missing")
			}
			var limit, max int
			fmt.Sscan(fmt.Sprint(big.Pagination.Limit), &limit)
			fmt.Sscan(fmt.Sprint(p.MaximumLimit), &max)
			if max <= 0 || limit > max || len(big.Resources) > max {
				return fmt.Errorf("limit=1000000 answered limit %d, %d resources, maximum_limit %d", limit, len(big.Resources), max)
			}
			return nil
		}},
	{Name: "list-summary-only", ReadOnly: true, Doc: "list resources hold only the summary attributes (username, hierarchy_path, ...), not the instance",
		Run: func(ctx context.Context, e *Env) error {
			l, err := e.vossList(ctx, url.Values{"hierarchy": {e.hier()}, "limit": {"5"}})
			if err != nil {
				return err
			}
			if len(l.Resources) == 0 {
				return skip("no data/User at %s", e.hier())
			}
			for _, r := range l.Resources {
				if r.Pkid == "" {
					return errors.New("a resource without pkid")
				}
				for _, full := range []string{"role", "password", "account_information"} {
					if _, ok := r.Data[full]; ok {
						return fmt.Errorf("list data carries %s: the full instance, not the summary", full)
					}
				}
			}
			return nil
		}},
	{Name: "get-by-pkid", ReadOnly: true, Doc: "GET /api/data/User/[pkid]/ answers the full instance, without its password",
		Run: func(ctx context.Context, e *Env) error {
			pkid, err := e.firstUser(ctx)
			if err != nil {
				return err
			}
			a, err := e.do(ctx, req{method: http.MethodGet, path: vossUser + pkid + "/", query: url.Values{"format": {"json"}}})
			if err != nil {
				return err
			}
			if err := want(a, 200); err != nil {
				return err
			}
			var in struct {
				Data map[string]any `json:"data"`
			}
			if err := a.json(&in); err != nil {
				return err
			}
			if in.Data["username"] == nil || in.Data["role"] == nil {
				return errors.New("the instance lacks username or role")
			}
			if p, ok := in.Data["password"].(string); ok && p != "" {
				return errors.New("the instance carries a password value")
			}
			return nil
		}},
	{Name: "bulk-export", ReadOnly: true, Doc: "POST .../export/ with hrefs answers a zip of JSON [{meta, data}] items, without passwords",
		Run: func(ctx context.Context, e *Env) error {
			pkid, err := e.firstUser(ctx)
			if err != nil {
				return err
			}
			a, err := e.do(ctx, req{method: http.MethodPost, path: vossUser + "export/", query: url.Values{"hierarchy": {e.hier()}, "export_format": {"json"}, "format": {"json"}},
				body: map[string]any{"hrefs": []string{vossUser + pkid}}})
			if err != nil {
				return err
			}
			if err := want(a, 200); err != nil {
				return err
			}
			docs, err := zipJSON(a.Body)
			if err != nil {
				return err
			}
			items, _ := docs[0].([]any)
			if len(items) != 1 {
				return fmt.Errorf("the export of one href holds %d items", len(items))
			}
			it, _ := items[0].(map[string]any)
			data, _ := it["data"].(map[string]any)
			if it["meta"] == nil || data["username"] == nil {
				return errors.New("the item lacks meta or data.username")
			}
			if p, ok := data["password"].(string); ok && p != "" {
				return errors.New("the export carries a password value")
			}
			return nil
		}},
	{Name: "roles-list", ReadOnly: true, Doc: "data/Role lists under a hierarchy, each resource naming its role in data.name",
		Run: func(ctx context.Context, e *Env) error {
			a, err := e.do(ctx, req{method: http.MethodGet, path: "/api/data/Role/", query: url.Values{"hierarchy": {e.hier()}, "format": {"json"}}})
			if err != nil {
				return err
			}
			if err := want(a, 200); err != nil {
				return err
			}
			var l vossList
			if err := a.json(&l); err != nil {
				return err
			}
			if len(l.Resources) == 0 {
				return errors.New("no role visible")
			}
			if _, ok := l.Resources[0].Data["name"].(string); !ok {
				return errors.New("a role without data.name")
			}
			return nil
		}},
	{Name: "create-and-key-unique", Doc: "a create answers {pkid, success: true}; a second create of the same username in the hierarchy is refused and adds nothing",
		Run: func(ctx context.Context, e *Env) error {
			name := uniq("conf-")
			a, m, err := e.vossCreate(ctx, e.vossUserData(name, "Conformance-Pw-1"), false)
			if err != nil {
				return err
			}
			if err := want(a, 200, 201); err != nil {
				return err
			}
			pkid, _ := m["pkid"].(string)
			if pkid == "" || m["success"] != true {
				return fmt.Errorf("create answered %.200q, want pkid and success", a.Body)
			}
			defer e.vossDelete(context.WithoutCancel(ctx), pkid)
			a, _, err = e.vossCreate(ctx, e.vossUserData(name, "Conformance-Pw-2"), false)
			if err != nil {
				return err
			}
			if a.Status < 400 || a.Status >= 500 {
				return fmt.Errorf("duplicate create: HTTP %d, want a 4xx refusal", a.Status)
			}
			if n, _, err := e.countKey(ctx, name); err != nil || n != 1 {
				return fmt.Errorf("after a refused duplicate, %d instances (err %v), want 1", n, err)
			}
			return nil
		}},
	{Name: "create-needs-hierarchy", Doc: "a create without hierarchy= is refused with 400",
		Run: func(ctx context.Context, e *Env) error {
			name := uniq("conf-")
			a, err := e.do(ctx, req{method: http.MethodPost, path: vossUser, query: url.Values{"format": {"json"}}, body: e.vossUserData(name, "Conformance-Pw-1")})
			if err != nil {
				return err
			}
			if a.Status < 300 {
				if _, pkid, err := e.countKey(ctx, name); err == nil && pkid != "" {
					_ = e.vossDelete(ctx, pkid)
				}
			}
			return want(a, 400)
		}},
	{Name: "password-pattern", Doc: "a password shorter than 8 characters (pattern .{8,}) is refused with 400",
		Run: func(ctx context.Context, e *Env) error {
			a, m, err := e.vossCreate(ctx, e.vossUserData(uniq("conf-"), "short"), false)
			if err != nil {
				return err
			}
			if pkid, _ := m["pkid"].(string); pkid != "" {
				_ = e.vossDelete(ctx, pkid)
			}
			return want(a, 400)
		}},
	{Name: "role-must-exist", Doc: "a role that names no data/Role is refused with 400",
		Run: func(ctx context.Context, e *Env) error {
			d := e.vossUserData(uniq("conf-"), "Conformance-Pw-1")
			d["role"] = uniq("NoSuchRole-")
			a, m, err := e.vossCreate(ctx, d, false)
			if err != nil {
				return err
			}
			if pkid, _ := m["pkid"].(string); pkid != "" {
				_ = e.vossDelete(ctx, pkid)
			}
			return want(a, 400)
		}},
	{Name: "nowait-transaction", Doc: "with nowait=true a write answers {href, success, transaction_id}; /api/tool/Transaction/[id]/poll/ reaches a final status and the instance exists",
		Run: func(ctx context.Context, e *Env) error {
			name := uniq("conf-")
			a, m, err := e.vossCreate(ctx, e.vossUserData(name, "Conformance-Pw-1"), true)
			if err != nil {
				return err
			}
			if err := want(a, 200, 201, 202); err != nil {
				return err
			}
			tx, _ := m["transaction_id"].(string)
			if tx == "" || m["href"] == nil {
				return fmt.Errorf("nowait answered %.200q, want href and transaction_id", a.Body)
			}
			var status string
			err = wait(ctx, func() (bool, error) {
				p, err := e.do(ctx, req{method: http.MethodGet, path: "/api/tool/Transaction/" + tx + "/poll/", query: url.Values{"format": {"json"}}})
				if err != nil {
					return false, err
				}
				if err := want(p, 200); err != nil {
					return false, err
				}
				var poll map[string]struct {
					Status string `json:"status"`
				}
				if err := p.json(&poll); err != nil {
					return false, err
				}
				status = strings.ToLower(poll[tx].Status)
				return status == "success" || strings.Contains(status, "fail"), nil
			})
			if err != nil {
				return err
			}
			n, pkid, err := e.countKey(ctx, name)
			if pkid != "" {
				defer e.vossDelete(context.WithoutCancel(ctx), pkid)
			}
			if err != nil || status != "success" || n != 1 {
				return fmt.Errorf("transaction %s ended %q with %d instances (err %v)", tx, status, n, err)
			}
			return nil
		}},
	{Name: "throttle", Doc: "more requests per second than the per-user limit are answered 429 or 503 (every request counts)",
		Run: func(ctx context.Context, e *Env) error {
			if e.RateLimit <= 0 {
				return skip("no rate limit given to probe")
			}
			n := int(3*e.RateLimit) + 5
			counts, headers, err := e.parallel(ctx, n, req{method: http.MethodGet, path: "/api/tool/Transaction/" + uniq("none-") + "/poll/", query: url.Values{"format": {"json"}}})
			if err != nil {
				return err
			}
			if counts[429]+counts[503] == 0 {
				return fmt.Errorf("%d requests at once, none throttled (%v)", n, counts)
			}
			for _, h := range headers {
				if ra := h.Get("Retry-After"); ra != "" && strings.Trim(ra, "0123456789") != "" {
					if _, err := http.ParseTime(ra); err != nil {
						return fmt.Errorf("Retry-After %q is neither seconds nor a date", ra)
					}
				}
			}
			return nil
		}},
}
