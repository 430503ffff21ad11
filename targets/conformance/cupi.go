package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// cupiList reads a JSON collection answer: @total and the raw element.
func (e *Env) cupiList(ctx context.Context, path, elem string, q url.Values) (string, json.RawMessage, map[string]json.RawMessage, error) {
	a, err := e.do(ctx, req{method: http.MethodGet, path: path, query: q})
	if err != nil {
		return "", nil, nil, err
	}
	if err := want(a, 200); err != nil {
		return "", nil, nil, err
	}
	var raw map[string]json.RawMessage
	if err := a.json(&raw); err != nil {
		return "", nil, nil, err
	}
	var total string
	if err := json.Unmarshal(raw["@total"], &total); err != nil {
		return "", nil, raw, fmt.Errorf("@total is not a string: %.80q", raw["@total"])
	}
	return total, raw[elem], raw, nil
}

// items decodes an element that is an array, or a lone object.
func items(raw json.RawMessage) ([]map[string]any, bool, error) {
	if len(raw) == 0 {
		return nil, false, nil
	}
	var many []map[string]any
	if err := json.Unmarshal(raw, &many); err == nil {
		return many, true, nil
	}
	var one map[string]any
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, false, fmt.Errorf("element is neither an array nor an object: %.80q", raw)
	}
	return []map[string]any{one}, false, nil
}

func page(rows, n int) url.Values {
	return url.Values{"rowsPerPage": {fmt.Sprint(rows)}, "pageNumber": {fmt.Sprint(n)}}
}

func (e *Env) cupiFirstUser(ctx context.Context) (string, error) {
	_, raw, _, err := e.cupiList(ctx, "/vmrest/users", "User", page(1, 1))
	if err != nil {
		return "", err
	}
	its, _, err := items(raw)
	if err != nil {
		return "", err
	}
	if len(its) == 0 {
		return "", skip("no user to read")
	}
	id, _ := its[0]["ObjectId"].(string)
	return id, nil
}

func (e *Env) template() string {
	if e.Template == "" {
		return "voicemailusertemplate"
	}
	return e.Template
}

// cupiCreate creates a user; it returns the answer and the new id.
func (e *Env) cupiCreate(ctx context.Context, fields map[string]string) (*answer, string, error) {
	a, err := e.do(ctx, req{method: http.MethodPost, path: "/vmrest/users", query: url.Values{"templateAlias": {e.template()}}, body: fields})
	if err != nil {
		return nil, "", err
	}
	if a.Status != 201 {
		return a, "", nil
	}
	uri := strings.TrimSpace(string(a.Body))
	if loc := a.Header.Get("Location"); loc != "" {
		uri = loc
	}
	uri = strings.TrimRight(uri, "/")
	return a, uri[strings.LastIndex(uri, "/")+1:], nil
}

func (e *Env) cupiDelete(ctx context.Context, path string) error {
	a, err := e.do(ctx, req{method: http.MethodDelete, path: path})
	if err != nil {
		return err
	}
	return want(a, 200, 204)
}

// cupiObject GETs path and decodes a flat JSON object.
func (e *Env) cupiObject(ctx context.Context, path string) (map[string]any, error) {
	a, err := e.do(ctx, req{method: http.MethodGet, path: path})
	if err != nil {
		return nil, err
	}
	if err := want(a, 200); err != nil {
		return nil, err
	}
	var m map[string]any
	return m, a.json(&m)
}

// errorBody checks a CUPI error answer carries a code or message.
func errorBody(a *answer) error {
	var v struct {
		Errors json.RawMessage `json:"errors"`
	}
	if err := a.json(&v); err != nil || len(v.Errors) == 0 {
		return fmt.Errorf("HTTP %d without an errors body: %.200q", a.Status, a.Body)
	}
	return nil
}

// CUPI is the table of documented Unity Connection CUPI behaviours.
var CUPI = []Check{
	{Name: "auth-required", ReadOnly: true, Doc: "a request without Basic credentials is refused with 401",
		Run: func(ctx context.Context, e *Env) error {
			a, err := e.do(ctx, req{method: http.MethodGet, path: "/vmrest/users", query: page(1, 1), noAuth: true})
			if err != nil {
				return err
			}
			return want(a, 401)
		}},
	{Name: "xml-by-default", ReadOnly: true, Doc: "without Accept: application/json the answer is XML",
		Run: func(ctx context.Context, e *Env) error {
			a, err := e.do(ctx, req{method: http.MethodGet, path: "/vmrest/roles", query: page(1, 1), accept: "-"})
			if err != nil {
				return err
			}
			if err := want(a, 200); err != nil {
				return err
			}
			if !strings.HasPrefix(strings.TrimSpace(string(a.Body)), "<") {
				return fmt.Errorf("body is not XML: %.80q", a.Body)
			}
			return nil
		}},
	{Name: "json-values-strings", ReadOnly: true, Doc: "in JSON every value is a string, @total included",
		Run: func(ctx context.Context, e *Env) error {
			_, raw, _, err := e.cupiList(ctx, "/vmrest/roles", "Role", page(3, 1))
			if err != nil {
				return err
			}
			its, _, err := items(raw)
			if err != nil {
				return err
			}
			for _, it := range its {
				for k, v := range it {
					if _, ok := v.(string); !ok {
						return fmt.Errorf("field %s is %T, not a string", k, v)
					}
				}
			}
			return nil
		}},
	{Name: "one-item-is-object", ReadOnly: true, Doc: "a collection answer with exactly one item holds it as an object, not an array",
		Run: func(ctx context.Context, e *Env) error {
			total, raw, _, err := e.cupiList(ctx, "/vmrest/roles", "Role", page(1, 1))
			if err != nil {
				return err
			}
			_, isArray, err := items(raw)
			if err != nil {
				return err
			}
			if len(raw) == 0 {
				return fmt.Errorf("no Role element (@total %s)", total)
			}
			if isArray {
				return errors.New("one item came as an array")
			}
			return nil
		}},
	{Name: "empty-is-total-zero", ReadOnly: true, Doc: "an empty collection answers only {\"@total\":\"0\"}",
		Run: func(ctx context.Context, e *Env) error {
			total, raw, all, err := e.cupiList(ctx, "/vmrest/users", "User", url.Values{"query": {"(alias is " + uniq("conf-none-") + ")"}})
			if err != nil {
				return err
			}
			if total != "0" || len(raw) != 0 || len(all) != 1 {
				return fmt.Errorf("@total %q with %d keys, want only @total \"0\"", total, len(all))
			}
			return nil
		}},
	{Name: "count-only", ReadOnly: true, Doc: "rowsPerPage=0 answers the count only",
		Run: func(ctx context.Context, e *Env) error {
			total, raw, _, err := e.cupiList(ctx, "/vmrest/roles", "Role", page(0, 1))
			if err != nil {
				return err
			}
			if len(raw) != 0 || total == "" || total == "0" {
				return fmt.Errorf("@total %q with items %.60q, want the count alone", total, raw)
			}
			return nil
		}},
	{Name: "paging-by-total", ReadOnly: true, Doc: "rowsPerPage and pageNumber (from 1) page through @total items, each page holding the next ones",
		Run: func(ctx context.Context, e *Env) error {
			total, raw, _, err := e.cupiList(ctx, "/vmrest/roles", "Role", page(2, 1))
			if err != nil {
				return err
			}
			first, _, err := items(raw)
			if err != nil {
				return err
			}
			var n int
			fmt.Sscan(total, &n)
			if n < 3 {
				return skip("fewer than 3 roles")
			}
			_, raw, _, err = e.cupiList(ctx, "/vmrest/roles", "Role", page(2, 2))
			if err != nil {
				return err
			}
			second, _, err := items(raw)
			if err != nil {
				return err
			}
			if len(first) != 2 || len(second) == 0 || len(second) > 2 {
				return fmt.Errorf("pages of %d and %d items, want 2 and 1..2", len(first), len(second))
			}
			for _, a := range first {
				for _, b := range second {
					if a["ObjectId"] == b["ObjectId"] {
						return errors.New("page 2 repeats an item of page 1")
					}
				}
			}
			return nil
		}},
	{Name: "page-cap", ReadOnly: true, Doc: "a page holds at most the cap (assumed 2000) whatever rowsPerPage asks: a client pages by @total",
		Run: func(ctx context.Context, e *Env) error {
			limit := e.MaxPage
			if limit <= 0 {
				limit = 2000
			}
			total, raw, _, err := e.cupiList(ctx, "/vmrest/roles", "Role", page(limit+1, 1))
			if err != nil {
				return err
			}
			var n int
			fmt.Sscan(total, &n)
			if n <= limit {
				return skip("%d roles, not more than the cap of %d", n, limit)
			}
			its, _, err := items(raw)
			if err != nil {
				return err
			}
			if len(its) > limit {
				return fmt.Errorf("rowsPerPage=%d answered %d items, above the cap of %d", limit+1, len(its), limit)
			}
			return nil
		}},
	{Name: "not-found-error-body", ReadOnly: true, Doc: "an unknown object answers 404 with an errors body",
		Run: func(ctx context.Context, e *Env) error {
			a, err := e.do(ctx, req{method: http.MethodGet, path: "/vmrest/users/00000000-0000-0000-0000-" + uniq("0000")})
			if err != nil {
				return err
			}
			if err := want(a, 404); err != nil {
				return err
			}
			return errorBody(a)
		}},
	{Name: "credential-never-secret", ReadOnly: true, Doc: "a credential GET answers its settings with TimeChanged, never the secret",
		Run: func(ctx context.Context, e *Env) error {
			id, err := e.cupiFirstUser(ctx)
			if err != nil {
				return err
			}
			m, err := e.cupiObject(ctx, "/vmrest/users/"+id+"/credential/password")
			if err != nil {
				return err
			}
			if c, _ := m["Credentials"].(string); c != "" {
				return errors.New("the secret came back")
			}
			if _, ok := m["TimeChanged"]; !ok {
				return errors.New("no TimeChanged")
			}
			return nil
		}},
	{Name: "create-user", Doc: "POST /vmrest/users?templateAlias=T with Alias and DtmfAccessId answers 201 with the URI in the body and Location; without DtmfAccessId 400; a duplicate alias 400 with an errors body",
		Run: func(ctx context.Context, e *Env) error {
			alias, ext := uniq("conf"), digits(9)
			a, id, err := e.cupiCreate(ctx, map[string]string{"Alias": alias})
			if err != nil {
				return err
			}
			if id != "" {
				_ = e.cupiDelete(ctx, "/vmrest/users/"+id)
			}
			if err := want(a, 400); err != nil {
				return fmt.Errorf("without DtmfAccessId: %v", err)
			}
			a, id, err = e.cupiCreate(ctx, map[string]string{"Alias": alias, "DtmfAccessId": ext})
			if err != nil {
				return err
			}
			if err := want(a, 201); err != nil {
				return err
			}
			defer e.cupiDelete(context.WithoutCancel(ctx), "/vmrest/users/"+id)
			if !strings.Contains(string(a.Body), "/vmrest/users/") || a.Header.Get("Location") == "" {
				return fmt.Errorf("201 body %.80q, Location %q: want the URI in both", a.Body, a.Header.Get("Location"))
			}
			a, id2, err := e.cupiCreate(ctx, map[string]string{"Alias": alias, "DtmfAccessId": ext + "1"})
			if err != nil {
				return err
			}
			if id2 != "" {
				_ = e.cupiDelete(ctx, "/vmrest/users/"+id2)
			}
			if err := want(a, 400); err != nil {
				return fmt.Errorf("duplicate alias: %v", err)
			}
			return errorBody(a)
		}},
	{Name: "credential-policy", Doc: "a credential below the policy's minimum length, or equal to a stored one, is refused with 400; a set that lands moves TimeChanged, a refusal does not",
		Run: func(ctx context.Context, e *Env) error {
			alias := uniq("conf")
			a, id, err := e.cupiCreate(ctx, map[string]string{"Alias": alias, "DtmfAccessId": digits(9)})
			if err != nil {
				return err
			}
			if err := want(a, 201); err != nil {
				return err
			}
			defer e.cupiDelete(context.WithoutCancel(ctx), "/vmrest/users/"+id)
			path := "/vmrest/users/" + id + "/credential/password"
			put := func(secret string) (*answer, error) {
				return e.do(ctx, req{method: http.MethodPut, path: path, body: map[string]string{"Credentials": secret}})
			}
			changed := func() (string, error) {
				m, err := e.cupiObject(ctx, path)
				if err != nil {
					return "", err
				}
				s, _ := m["TimeChanged"].(string)
				return s, nil
			}
			t0, err := changed()
			if err != nil {
				return err
			}
			if a, err = put("x1"); err != nil {
				return err
			} else if err := want(a, 400); err != nil {
				return fmt.Errorf("a 2-character password: %v", err)
			}
			secret := "Conf-" + uniq("") + "-Pw"
			if a, err = put(secret); err != nil {
				return err
			} else if err := want(a, 200, 204); err != nil {
				return err
			}
			t1, err := changed()
			if err != nil {
				return err
			}
			if t1 == t0 {
				return fmt.Errorf("TimeChanged stayed %q after a set", t0)
			}
			if a, err = put(secret); err != nil {
				return err
			} else if err := want(a, 400); err != nil {
				return fmt.Errorf("the same password again: %v", err)
			}
			if err := errorBody(a); err != nil {
				return err
			}
			if t2, err := changed(); err != nil || t2 != t1 {
				return fmt.Errorf("TimeChanged moved to %q after a refusal (err %v)", t2, err)
			}
			return nil
		}},
	{Name: "user-roles", Doc: "a user's roles: none is {\"@total\":\"0\"}; POST {RoleObjectId} answers 201 with the URI; one role lists as an object; DELETE answers 204",
		Run: func(ctx context.Context, e *Env) error {
			_, raw, _, err := e.cupiList(ctx, "/vmrest/roles", "Role", page(1, 1))
			if err != nil {
				return err
			}
			roles, _, err := items(raw)
			if err != nil || len(roles) == 0 {
				return fmt.Errorf("no role to grant (err %v)", err)
			}
			roleID, _ := roles[0]["ObjectId"].(string)
			alias := uniq("conf")
			a, id, err := e.cupiCreate(ctx, map[string]string{"Alias": alias, "DtmfAccessId": digits(9)})
			if err != nil {
				return err
			}
			if err := want(a, 201); err != nil {
				return err
			}
			defer e.cupiDelete(context.WithoutCancel(ctx), "/vmrest/users/"+id)
			path := "/vmrest/users/" + id + "/userroles"
			for _, ur := range []bool{false, true} {
				if ur {
					a, err := e.do(ctx, req{method: http.MethodPost, path: path, body: map[string]string{"RoleObjectId": roleID}})
					if err != nil {
						return err
					}
					if err := want(a, 201); err != nil {
						return err
					}
				}
				total, raw, all, err := e.cupiList(ctx, path, "UserRole", nil)
				if err != nil {
					return err
				}
				its, isArray, err := items(raw)
				if err != nil {
					return err
				}
				switch {
				case !ur && (total != "0" || len(all) != 1):
					return fmt.Errorf("no roles: @total %q with %d keys", total, len(all))
				case ur && (total != "1" || isArray || len(its) != 1):
					return fmt.Errorf("one role: @total %q, array %v", total, isArray)
				case ur:
					urID, _ := its[0]["ObjectId"].(string)
					if urID == "" {
						uri, _ := its[0]["URI"].(string)
						urID = uri[strings.LastIndex(uri, "/")+1:]
					}
					a, err := e.do(ctx, req{method: http.MethodDelete, path: path + "/" + urID})
					if err != nil {
						return err
					}
					return want(a, 204, 200)
				}
			}
			return nil
		}},
	{Name: "throttle", Doc: "a few requests are served at once, the rest queue, and one that waits too long gets 503",
		Run: func(ctx context.Context, e *Env) error {
			if !e.Stress {
				return skip("floods the server; run with -stress")
			}
			counts, _, err := e.parallel(ctx, 40, req{method: http.MethodGet, path: "/vmrest/roles", query: page(1, 1)})
			if err != nil {
				return err
			}
			if counts[503] == 0 || counts[200] == 0 {
				return fmt.Errorf("40 requests at once: %v, want some served and some 503", counts)
			}
			return nil
		}},
}
