// Package sim is a Cisco Unity Connection CUPI simulator that behaves as
// the documentation says (spec/targets.md): Basic authentication, JSON
// with every value a string and one-item collections as objects, XML by
// default, CUPI error bodies, credentials that are never returned and a
// credential policy (minimum length, history), and the throttle — a fixed
// number of requests in service at once, a bounded queue, and 503 for a
// request that waits longer than the queue timeout.
package sim

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bulkprov/bulkprov/targets/simkit"
)

// Options configure the simulator.
type Options struct {
	User, Password string        // Basic credentials it accepts
	Slots          int           // requests in service at once (CUPI: 5)
	QueueTimeout   time.Duration // longest wait for a slot before 503 (default 20s)
	MaxQueue       int           // requests allowed to wait (default 255)
	ServiceTime    time.Duration // time each request holds its slot
	MaxPage        int           // rows per page cap (assumed 2000)
	// ReuseMessage is the message of the 400 that refuses a password or
	// PIN equal to one in the policy's history. Its wording is not
	// documented and differs between versions and locales (assumed), so it
	// is configurable; the default, DefaultReuseMessage, avoids every word
	// a client might be tempted to key on.
	ReuseMessage string
	// DeleteStatus is the status of a successful DELETE: 204 (default), or
	// 200 as older servers answer.
	DeleteStatus int
	Faults       simkit.Faults
	// DropFields and LowerFields make the server misbehave on purpose
	// (unkept.go): each OBJECT:FIELD entry names a field whose writes it
	// answers with success as usual but does not keep (DropFields) or
	// keeps lower-cased (LowerFields). Validate checks them; New ignores
	// the lot when Validate refuses one.
	DropFields, LowerFields []string
}

// DefaultReuseMessage is the simulator's wording for a refused credential
// that is in the policy's history: locale-like, and deliberately free of
// words such as "match", "reuse", "history" or "recent".
const DefaultReuseMessage = "Le nouveau mot de passe n'est pas conforme à la stratégie d'informations d'identification"

// Credential is a user's password or PIN: its settings and the hashes of
// its current and previous values (the newest last).
type Credential struct {
	Settings map[string]string `json:"settings"`
	History  []string          `json:"history"`
}

// User is a simulated user with its credentials and roles.
type User struct {
	Fields    map[string]string      `json:"fields"`
	Creds     map[string]*Credential `json:"creds"`
	UserRoles map[string]string      `json:"userRoles"` // user-role id -> role id
}

// Policy is a credential policy.
type Policy struct {
	ObjectId, DisplayName string
	MinLength, History    int
	Digits                bool
}

// State is everything the simulator holds; it can be saved and restored.
type State struct {
	Users map[string]*User             `json:"users"`
	Authz map[string]map[string]string `json:"authz"`
	Seq   int64                        `json:"seq"`
}

// Server is the simulator; it is an http.Handler.
type Server struct {
	opts   Options
	mux    *http.ServeMux
	faults *simkit.Injector
	slots  chan struct{}
	unkept map[string]bool // "object:field" -> lower (else drop)
	Writes simkit.Writes

	queued, inService, maxInService atomic.Int64
	served, rejected                atomic.Int64

	mu        sync.Mutex
	st        State
	aliases   map[string]string // lower alias -> user id
	exts      map[string]string // extension -> user id
	roles     []map[string]string
	policies  []Policy
	templates []map[string]string
	dirty     atomic.Bool
}

var systemRoles = []string{
	"Audio Text Administrator", "Audit Administrator", "Greeting Administrator", "Help Desk Administrator",
	"Mailbox Access Delegate Account", "Remote Administrator", "System Administrator", "Technician",
	"Tenant Administrator", "User Administrator", "Read Only Administrator",
}

// stableID derives a GUID-shaped id from a name, so ids are the same in
// every run.
func stableID(name string) string {
	h := sha1.Sum([]byte(name))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// New returns a simulator with the system roles, the default credential
// policies and the default user template.
func New(o Options) *Server {
	if o.Slots <= 0 {
		o.Slots = 5
	}
	if o.QueueTimeout <= 0 {
		o.QueueTimeout = 20 * time.Second
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = 255
	}
	if o.MaxPage <= 0 {
		o.MaxPage = 2000
	}
	if o.ReuseMessage == "" {
		o.ReuseMessage = DefaultReuseMessage
	}
	s := &Server{opts: o, faults: simkit.NewInjector(o.Faults), slots: make(chan struct{}, o.Slots)}
	s.unkept, _ = parseUnkept(o.DropFields, o.LowerFields)
	s.st = State{Users: map[string]*User{}, Authz: map[string]map[string]string{}}
	s.reindex()
	for _, r := range systemRoles {
		id := stableID("role:" + r)
		s.roles = append(s.roles, map[string]string{"URI": "/vmrest/roles/" + id, "ObjectId": id, "RoleName": r,
			"RoleDescription": r, "IsEnabled": "true", "ReadOnly": "true"})
	}
	s.policies = []Policy{
		{ObjectId: stableID("policy:Default Credential Policy"), DisplayName: "Default Credential Policy", MinLength: 8, History: 5},
		{ObjectId: stableID("policy:Default Voicemail Credential Policy"), DisplayName: "Default Voicemail Credential Policy", MinLength: 6, History: 5, Digits: true},
		{ObjectId: stableID("policy:Strict Credential Policy"), DisplayName: "Strict Credential Policy", MinLength: 12, History: 12},
	}
	for _, t := range []string{"voicemailusertemplate", "adminusertemplate"} {
		id := stableID("template:" + t)
		s.templates = append(s.templates, map[string]string{"URI": "/vmrest/usertemplates/" + id, "ObjectId": id, "Alias": t, "DisplayName": t})
	}
	s.routes()
	return s
}

// SetServiceTime changes the service time while running.
func (s *Server) SetServiceTime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.ServiceTime = d
}

// SetFaults changes the injected faults while running.
func (s *Server) SetFaults(f simkit.Faults) { s.faults.Set(f) }

// MaxInService returns the most requests ever in service at once.
func (s *Server) MaxInService() int { return int(s.maxInService.Load()) }

// Rejected returns how many requests got a throttle 503.
func (s *Server) Rejected() int { return int(s.rejected.Load()) }

// Served returns how many requests were served (after the throttle).
func (s *Server) Served() int { return int(s.served.Load()) }

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /vmrest/users", s.listUsers)
	m.HandleFunc("POST /vmrest/users", s.createUser)
	m.HandleFunc("GET /vmrest/users/{id}", s.getUser)
	m.HandleFunc("PUT /vmrest/users/{id}", s.updateUser)
	m.HandleFunc("DELETE /vmrest/users/{id}", s.deleteUser)
	m.HandleFunc("GET /vmrest/users/{id}/credential/{kind}", s.getCredential)
	m.HandleFunc("PUT /vmrest/users/{id}/credential/{kind}", s.setCredential)
	m.HandleFunc("GET /vmrest/users/{id}/userroles", s.listUserRoles)
	m.HandleFunc("POST /vmrest/users/{id}/userroles", s.addUserRole)
	m.HandleFunc("DELETE /vmrest/users/{id}/userroles/{ur}", s.deleteUserRole)
	m.HandleFunc("GET /vmrest/roles", s.static("Roles", "Role", func() []map[string]string { return s.roles }))
	m.HandleFunc("GET /vmrest/usertemplates", s.static("UserTemplates", "UserTemplate", func() []map[string]string { return s.templates }))
	m.HandleFunc("GET /vmrest/credentialpolicies", s.static("CredentialPolicies", "CredentialPolicy", s.policyObjects))
	for _, p := range []string{"/vmrest/authz/server", "/vmrest/authz/server/"} {
		m.HandleFunc("GET "+p, s.listAuthz)
		m.HandleFunc("POST "+p, s.createAuthz)
	}
	m.HandleFunc("PUT /vmrest/authz/server/{id}", s.updateAuthz)
	m.HandleFunc("DELETE /vmrest/authz/server/{id}", s.deleteAuthz)
	s.mux = m
}

// ServeHTTP authenticates, throttles and serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/sim/cupi/stats" {
		writeJSONRaw(w, 200, map[string]int{"requests": s.Served(), "rejected": s.Rejected()})
		return
	}
	if r.URL.Path == "/sim/cupi/writes" {
		if !s.authorised(w, r) {
			return
		}
		writeJSONRaw(w, 200, s.Writes.Snapshot())
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/vmrest/") {
		http.NotFound(w, r)
		return
	}
	if !s.acquire(w, r) {
		return
	}
	defer s.release()
	// The service time covers the whole request, the simulator's own work
	// included: the slot is held until it has passed.
	start := time.Now()
	s.mu.Lock()
	service := s.opts.ServiceTime
	s.mu.Unlock()
	defer func() { simkit.Sleep(r, service*time.Duration(s.faults.Spike())-time.Since(start), 1) }()
	if !s.authorised(w, r) {
		return
	}
	if s.faults.Forbidden(r) {
		s.fail(w, r, http.StatusForbidden, "ACCESS_DENIED", "The user does not have the rights to perform this operation")
		return
	}
	if s.faults.Before(w, func(w http.ResponseWriter) { s.fail(w, r, 503, "SERVER_BUSY", "Server busy") }) {
		return
	}
	s.faults.Serve(w, r, s.mux)
}

func (s *Server) authorised(w http.ResponseWriter, r *http.Request) bool {
	if c, err := r.Cookie("JSESSIONID"); err == nil && c.Value == s.session() {
		return true
	}
	if !simkit.BasicAuth(r, s.opts.User, s.opts.Password) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Cisco Unity Connection"`)
		s.fail(w, r, 401, "AUTHENTICATION_FAILED", "Authentication failed")
		return false
	}
	http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: s.session(), Path: "/vmrest/", HttpOnly: true})
	return true
}

func (s *Server) session() string {
	h := sha256.Sum256([]byte("session:" + s.opts.User + ":" + s.opts.Password))
	return hex.EncodeToString(h[:12])
}

// acquire takes a service slot, waiting in the queue up to QueueTimeout.
func (s *Server) acquire(w http.ResponseWriter, r *http.Request) bool {
	select {
	case s.slots <- struct{}{}:
	default:
		if s.queued.Add(1) > int64(s.opts.MaxQueue) {
			s.queued.Add(-1)
			s.busy(w, r)
			return false
		}
		t := time.NewTimer(s.opts.QueueTimeout)
		select {
		case s.slots <- struct{}{}:
			t.Stop()
			s.queued.Add(-1)
		case <-t.C:
			s.queued.Add(-1)
			s.busy(w, r)
			return false
		case <-r.Context().Done():
			t.Stop()
			s.queued.Add(-1)
			return false
		}
	}
	n := s.inService.Add(1)
	for {
		m := s.maxInService.Load()
		if n <= m || s.maxInService.CompareAndSwap(m, n) {
			break
		}
	}
	s.served.Add(1)
	return true
}

func (s *Server) release() {
	s.inService.Add(-1)
	<-s.slots
}

func (s *Server) busy(w http.ResponseWriter, r *http.Request) {
	s.rejected.Add(1)
	s.fail(w, r, http.StatusServiceUnavailable, "SERVER_BUSY", "Server busy: too many requests queued")
}

func wantsJSON(r *http.Request) bool { return strings.Contains(r.Header.Get("Accept"), "json") }

// fail writes a CUPI error body in the requested format.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if wantsJSON(r) {
		writeJSONRaw(w, status, map[string]any{"errors": map[string]string{"code": code, "message": msg}})
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<ErrorDetails><errors><code>%s</code><message>%s</message></errors></ErrorDetails>", xmlEscape(code), xmlEscape(msg))
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeJSONRaw(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeList writes a collection with CUPI's quirks.
func writeList(w http.ResponseWriter, r *http.Request, plural, elem string, total int, items []map[string]string) {
	if wantsJSON(r) {
		out := map[string]any{"@total": strconv.Itoa(total)}
		switch len(items) {
		case 0:
		case 1:
			out[elem] = items[0] // one item: an object, not an array
		default:
			out[elem] = items
		}
		writeJSONRaw(w, 200, out)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	var b strings.Builder
	fmt.Fprintf(&b, "<%s total=\"%d\">", plural, total)
	for _, it := range items {
		writeXMLObject(&b, elem, it)
	}
	fmt.Fprintf(&b, "</%s>", plural)
	_, _ = io.WriteString(w, b.String())
}

func writeXMLObject(b *strings.Builder, elem string, o map[string]string) {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(b, "<%s>", elem)
	for _, k := range keys {
		if o[k] == "" {
			fmt.Fprintf(b, "<%s />", k)
		} else {
			fmt.Fprintf(b, "<%s>%s</%s>", k, xmlEscape(o[k]), k)
		}
	}
	fmt.Fprintf(b, "</%s>", elem)
}

func writeObject(w http.ResponseWriter, r *http.Request, elem string, o map[string]string) {
	if wantsJSON(r) {
		writeJSONRaw(w, 200, o)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	var b strings.Builder
	writeXMLObject(&b, elem, o)
	_, _ = io.WriteString(w, b.String())
}

func writeCreated(w http.ResponseWriter, uri string) {
	w.Header().Set("Location", uri)
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, uri)
}

// body reads the request body, answering 400 when it is not an object.
func (s *Server) body(w http.ResponseWriter, r *http.Request) (map[string]string, bool) {
	b, err := readBody(r)
	if err != nil {
		s.fail(w, r, 400, "INVALID_PARAMETER", "bad request body: "+err.Error())
		return nil, false
	}
	return b, true
}

// readBody decodes a JSON or XML object body into strings.
func readBody(r *http.Request) (map[string]string, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	trim := strings.TrimSpace(string(body))
	if trim == "" {
		return out, nil
	}
	if strings.HasPrefix(trim, "<") {
		return decodeXMLObject(trim)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	for k, v := range m {
		switch t := v.(type) {
		case string:
			out[k] = t
		case bool:
			out[k] = strconv.FormatBool(t)
		case float64:
			out[k] = strconv.FormatFloat(t, 'f', -1, 64)
		case nil:
			out[k] = ""
		default:
			return nil, fmt.Errorf("field %s: expected a value", k)
		}
	}
	return out, nil
}

// decodeXMLObject reads <Elem><Field>value</Field>...</Elem>: the element
// name is not checked, each child element is one field, and a child with
// children of its own is refused (CUPI objects are flat).
func decodeXMLObject(body string) (map[string]string, error) {
	d := xml.NewDecoder(strings.NewReader(body))
	out := map[string]string{}
	depth := 0
	var field string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("malformed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 2:
				field = t.Name.Local
				text.Reset()
			case 3:
				return nil, fmt.Errorf("field %s: expected a value, not elements", field)
			}
		case xml.CharData:
			if depth == 2 {
				text.Write(t)
			}
		case xml.EndElement:
			if depth == 2 {
				out[field] = text.String()
			}
			depth--
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("malformed XML: unclosed element")
	}
	return out, nil
}

func (s *Server) newID() string {
	s.st.Seq++
	return stableID(fmt.Sprintf("object:%d", s.st.Seq))
}

var queryRE = regexp.MustCompile(`(?i)^\(\s*(\w+)\s+(is|startswith)\s+(.*?)\s*\)$`)

// page applies rowsPerPage/pageNumber; 0 in either returns only the count.
func (s *Server) page(r *http.Request, n int) (lo, hi int, countOnly bool, ok bool) {
	q := r.URL.Query()
	rows, page := s.opts.MaxPage, 1
	if v := q.Get("rowsPerPage"); v != "" {
		x, err := strconv.Atoi(v)
		if err != nil || x < 0 {
			return 0, 0, false, false
		}
		rows = min(x, s.opts.MaxPage)
	}
	if v := q.Get("pageNumber"); v != "" {
		x, err := strconv.Atoi(v)
		if err != nil || x < 0 {
			return 0, 0, false, false
		}
		page = x
	}
	if rows == 0 || page == 0 {
		return 0, 0, true, true
	}
	lo = min((page-1)*rows, n)
	return lo, min(lo+rows, n), false, true
}

func userObject(id string, u *User) map[string]string {
	o := map[string]string{}
	for k, v := range u.Fields {
		o[k] = v
	}
	o["ObjectId"], o["URI"] = id, "/vmrest/users/"+id
	return o
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var ids []string
	filter := func(*User) bool { return true }
	if q := r.URL.Query().Get("query"); q != "" {
		m := queryRE.FindStringSubmatch(q)
		if m == nil {
			s.mu.Unlock()
			s.fail(w, r, 400, "INVALID_PARAMETER", "query must be (column is|startswith value)")
			return
		}
		col, op, val := m[1], strings.ToLower(m[2]), m[3]
		field := ""
		for _, f := range []string{"Alias", "DtmfAccessId", "FirstName", "LastName", "DisplayName", "ObjectId"} {
			if strings.EqualFold(f, col) {
				field = f
			}
		}
		if field == "" {
			s.mu.Unlock()
			s.fail(w, r, 400, "INVALID_PARAMETER", "column "+col+" cannot be queried")
			return
		}
		filter = func(u *User) bool {
			v := u.Fields[field]
			if op == "is" {
				return strings.EqualFold(v, val)
			}
			return len(v) >= len(val) && strings.EqualFold(v[:len(val)], val)
		}
	}
	if q := r.URL.Query().Get("query"); q != "" {
		if m := queryRE.FindStringSubmatch(q); strings.EqualFold(m[1], "alias") && strings.EqualFold(m[2], "is") {
			if id, ok := s.aliases[strings.ToLower(m[3])]; ok {
				ids = append(ids, id)
			}
			filter = nil
		}
	}
	for id, u := range s.st.Users {
		if filter != nil && filter(u) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		return strings.ToLower(s.st.Users[ids[i]].Fields["Alias"]) < strings.ToLower(s.st.Users[ids[j]].Fields["Alias"])
	})
	lo, hi, countOnly, ok := s.page(r, len(ids))
	var items []map[string]string
	if ok && !countOnly {
		for _, id := range ids[lo:hi] {
			items = append(items, userObject(id, s.st.Users[id]))
		}
	}
	s.mu.Unlock()
	if !ok {
		s.fail(w, r, 400, "INVALID_PARAMETER", "rowsPerPage and pageNumber must be whole numbers")
		return
	}
	writeList(w, r, "Users", "User", len(ids), items)
}

var userWritable = map[string]bool{
	"Alias": true, "DtmfAccessId": true, "FirstName": true, "LastName": true, "DisplayName": true,
	"EmailAddress": true, "TimeZone": true, "Language": true, "ListInDirectory": true, "Inactive": true,
	"Department": true, "Title": true, "City": true, "State": true, "Country": true, "Initials": true,
}

// reindex rebuilds the alias and extension indexes.
func (s *Server) reindex() {
	s.aliases, s.exts = map[string]string{}, map[string]string{}
	for id, u := range s.st.Users {
		s.index(id, u)
	}
}

func (s *Server) index(id string, u *User) {
	s.aliases[strings.ToLower(u.Fields["Alias"])] = id
	if e := u.Fields["DtmfAccessId"]; e != "" {
		s.exts[e] = id
	}
}

func (s *Server) unindex(u *User) {
	delete(s.aliases, strings.ToLower(u.Fields["Alias"]))
	delete(s.exts, u.Fields["DtmfAccessId"])
}

// checkUserFields validates a user body; it returns an error message.
func (s *Server) checkUserFields(body map[string]string, selfID string) string {
	for k := range body {
		if !userWritable[k] {
			return "field " + k + " is not a writable user field"
		}
	}
	if a, ok := body["Alias"]; ok {
		if id, taken := s.aliases[strings.ToLower(a)]; taken && id != selfID {
			return "a user with alias " + a + " already exists"
		}
	}
	if e, ok := body["DtmfAccessId"]; ok && e != "" {
		if id, taken := s.exts[e]; taken && id != selfID {
			return "extension " + e + " is already in use in this partition"
		}
	}
	return ""
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	body, ok := s.body(w, r)
	if !ok {
		return
	}
	tmpl := r.URL.Query().Get("templateAlias")
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, t := range s.templates {
		if strings.EqualFold(t["Alias"], tmpl) {
			found = true
		}
	}
	switch {
	case tmpl == "":
		s.fail(w, r, 400, "INVALID_PARAMETER", "templateAlias is required")
		return
	case !found:
		s.fail(w, r, 404, "INVALID_PARAMETER", "user template "+tmpl+" not found")
		return
	case body["Alias"] == "" || body["DtmfAccessId"] == "":
		s.fail(w, r, 400, "MISSING_PARAMETER", "Alias and DtmfAccessId are required to create a user")
		return
	}
	if msg := s.checkUserFields(body, ""); msg != "" {
		s.fail(w, r, 400, "DATA_EXCEPTION", msg)
		return
	}
	if st := s.faults.FailKey(body["Alias"]); st != 0 {
		s.fail(w, r, st, "SYSTEM_ERROR", "An unexpected error occurred while processing the request")
		return
	}
	id := s.newID()
	u := &User{Fields: map[string]string{"TimeZone": "190", "Language": "1033", "IsTemplate": "false",
		"ListInDirectory": "true", "Inactive": "false", "CreationTime": nextTime("")},
		Creds: map[string]*Credential{}, UserRoles: map[string]string{}}
	for k, v := range body {
		if kept, ok := s.keep("user", k, v); ok {
			u.Fields[k] = kept
		}
	}
	if u.Fields["DisplayName"] == "" {
		u.Fields["DisplayName"] = strings.TrimSpace(u.Fields["FirstName"] + " " + u.Fields["LastName"])
	}
	for kind, pol := range map[string]int{"password": 0, "pin": 1} {
		u.Creds[kind] = &Credential{Settings: map[string]string{
			"CredentialType": map[string]string{"password": "3", "pin": "4"}[kind], "IsPrimary": "false",
			"CantChange": "false", "DoesntExpire": "false", "CredMustChange": "true", "Locked": "false",
			"HackCount": "0", "Hacked": "false", "EncryptionType": "3", "TimeChanged": u.Fields["CreationTime"], "TimeLockout": "",
			"CredentialPolicyObjectId": s.policies[pol].ObjectId, "ObjectId": stableID(id + kind),
		}}
	}
	s.st.Users[id] = u
	s.index(id, u)
	s.Writes.Add("cupi/user:" + strings.ToLower(body["Alias"]) + ":create")
	s.dirty.Store(true)
	writeCreated(w, "/vmrest/users/"+id)
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) (string, *User) {
	id := r.PathValue("id")
	u := s.st.Users[id]
	if u == nil {
		s.fail(w, r, 404, "NOT_FOUND", "user "+id+" not found")
	}
	return id, u
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id, u := s.user(w, r)
	var o map[string]string
	if u != nil {
		o = userObject(id, u)
	}
	s.mu.Unlock()
	if u != nil {
		writeObject(w, r, "User", o)
	}
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	body, ok := s.body(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, u := s.user(w, r)
	if u == nil {
		return
	}
	if msg := s.checkUserFields(body, id); msg != "" {
		s.fail(w, r, 400, "DATA_EXCEPTION", msg)
		return
	}
	if st := s.faults.FailKey(u.Fields["Alias"]); st != 0 {
		s.fail(w, r, st, "SYSTEM_ERROR", "An unexpected error occurred while processing the request")
		return
	}
	s.unindex(u)
	for k, v := range body {
		if kept, ok := s.keep("user", k, v); ok {
			u.Fields[k] = kept
		}
	}
	s.index(id, u)
	s.Writes.Add("cupi/user:" + strings.ToLower(u.Fields["Alias"]) + ":update")
	s.dirty.Store(true)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, u := s.user(w, r)
	if u == nil {
		return
	}
	if st := s.faults.FailKey(u.Fields["Alias"]); st != 0 {
		s.fail(w, r, st, "SYSTEM_ERROR", "An unexpected error occurred while processing the request")
		return
	}
	delete(s.st.Users, id)
	s.unindex(u)
	s.Writes.Add("cupi/user:" + strings.ToLower(u.Fields["Alias"]) + ":delete")
	s.dirty.Store(true)
	s.deleted(w)
}

func (s *Server) credential(w http.ResponseWriter, r *http.Request) (*User, *Credential, string) {
	_, u := s.user(w, r)
	if u == nil {
		return nil, nil, ""
	}
	kind := r.PathValue("kind")
	c := u.Creds[kind]
	if c == nil {
		s.fail(w, r, 404, "NOT_FOUND", "credential "+kind+" not found")
		return nil, nil, ""
	}
	return u, c, kind
}

func (s *Server) getCredential(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u, c, kind := s.credential(w, r)
	var o map[string]string
	if c != nil {
		o = map[string]string{}
		for k, v := range c.Settings {
			o[k] = v
		}
		id := r.PathValue("id")
		o["URI"], o["UserObjectId"], o["Alias"] = "/vmrest/users/"+id+"/credential/"+kind, id, u.Fields["Alias"]
		o["Credentials"] = "" // never returned
	}
	s.mu.Unlock()
	if c != nil {
		writeObject(w, r, "Credential", o)
	}
}

var credWritable = map[string]bool{
	"Credentials": true, "Locked": true, "CantChange": true, "DoesntExpire": true, "CredMustChange": true,
	"CredentialPolicyObjectId": true, "HackCount": true, "TimeHacked": true,
}

func (s *Server) policy(id string) *Policy {
	for i := range s.policies {
		if s.policies[i].ObjectId == id {
			return &s.policies[i]
		}
	}
	return nil
}

func hashSecret(alias, kind, secret string) string {
	h := sha256.Sum256([]byte("cupi-sim\x00" + strings.ToLower(alias) + "\x00" + kind + "\x00" + secret))
	return hex.EncodeToString(h[:])
}

// credentialFieldsProblem says why a credential body cannot be written:
// a field that is not writable, or a flag that is not true or false.
func credentialFieldsProblem(body map[string]string) string {
	for k, v := range body {
		if !credWritable[k] {
			return "field " + k + " is not writable"
		}
		switch k {
		case "Locked", "CantChange", "DoesntExpire", "CredMustChange":
			if v != "true" && v != "false" {
				return k + " must be true or false"
			}
		}
	}
	return ""
}

// newSecret holds a new secret to the credential policy polID (the first
// policy when it names none): minimum length, digits for a PIN, not one of
// the policy's last History secrets. It returns the secret's hash, or why
// the server refuses it. The caller holds s.mu.
func (s *Server) newSecret(u *User, c *Credential, kind, polID, secret string) (hash, refused string, ok bool) {
	pol := s.policy(polID)
	if pol == nil {
		pol = &s.policies[0]
	}
	if len([]rune(secret)) < pol.MinLength {
		return "", fmt.Sprintf("the new %s does not meet the minimum length of %d set by the credential policy", kind, pol.MinLength), false
	}
	if pol.Digits || kind == "pin" {
		for _, ch := range secret {
			if ch < '0' || ch > '9' {
				return "", "a PIN may contain digits only", false
			}
		}
	}
	newHash := hashSecret(u.Fields["Alias"], kind, secret)
	hist := c.History
	if len(hist) > pol.History {
		hist = hist[len(hist)-pol.History:]
	}
	for _, h := range hist {
		if h == newHash {
			return "", s.opts.ReuseMessage, false
		}
	}
	return newHash, "", true
}

func (s *Server) setCredential(w http.ResponseWriter, r *http.Request) {
	body, ok := s.body(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, c, kind := s.credential(w, r)
	if c == nil {
		return
	}
	if msg := credentialFieldsProblem(body); msg != "" {
		s.fail(w, r, 400, "INVALID_PARAMETER", msg)
		return
	}
	polID := c.Settings["CredentialPolicyObjectId"]
	if p, ok := body["CredentialPolicyObjectId"]; ok {
		if s.policy(p) == nil {
			s.fail(w, r, 400, "INVALID_PARAMETER", "credential policy "+p+" does not exist")
			return
		}
		polID = p
	}
	if st := s.faults.FailKey(u.Fields["Alias"]); st != 0 {
		s.fail(w, r, st, "SYSTEM_ERROR", "An unexpected error occurred while processing the request")
		return
	}
	var newHash string
	if secret, ok := body["Credentials"]; ok {
		var msg string
		if newHash, msg, ok = s.newSecret(u, c, kind, polID, secret); !ok {
			s.fail(w, r, 400, "INVALID_CREDENTIAL", msg)
			return
		}
	}
	for k, v := range body {
		kept, ok := s.keep("credential", k, v)
		switch {
		case k == "Credentials":
		case !ok:
		case k == "TimeHacked":
			c.Settings["TimeLastHack"] = kept
		default:
			c.Settings[k] = kept
		}
	}
	if newHash != "" {
		c.History = append(c.History, newHash)
		if len(c.History) > 24 {
			c.History = c.History[len(c.History)-24:]
		}
		c.Settings["TimeChanged"] = nextTime(c.Settings["TimeChanged"])
	}
	s.Writes.Add("cupi/credential:" + strings.ToLower(u.Fields["Alias"]) + ":" + kind)
	s.dirty.Store(true)
	w.WriteHeader(http.StatusNoContent)
}

// cupiTime is the layout of CUPI timestamps (seed 000).
const cupiTime = "2006-01-02 15:04:05.000"

// nextTime returns the time now in CUPI's layout, at least a millisecond
// after prev, so TimeChanged moves on every set that lands, however close.
func nextTime(prev string) string {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if p, err := time.Parse(cupiTime, prev); err == nil && !now.After(p) {
		now = p.Add(time.Millisecond)
	}
	return now.Format(cupiTime)
}

// deleted answers a successful DELETE.
func (s *Server) deleted(w http.ResponseWriter) {
	if s.opts.DeleteStatus == http.StatusOK {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) roleByID(id string) map[string]string {
	for _, r := range s.roles {
		if r["ObjectId"] == id {
			return r
		}
	}
	return nil
}

func (s *Server) listUserRoles(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id, u := s.user(w, r)
	var items []map[string]string
	if u != nil {
		for urID, roleID := range u.UserRoles {
			role := s.roleByID(roleID)
			items = append(items, map[string]string{
				"URI": "/vmrest/users/" + id + "/userroles/" + urID, "ObjectId": urID, "UserObjectId": id,
				"UserURI": "/vmrest/users/" + id, "RoleObjectId": roleID, "RoleURI": "/vmrest/roles/" + roleID,
				"RoleName": role["RoleName"], "Alias": u.Fields["Alias"],
			})
		}
	}
	s.mu.Unlock()
	if u == nil {
		return
	}
	sort.Slice(items, func(i, j int) bool { return items[i]["RoleName"] < items[j]["RoleName"] })
	writeList(w, r, "UserRoles", "UserRole", len(items), items)
}

func (s *Server) addUserRole(w http.ResponseWriter, r *http.Request) {
	body, ok := s.body(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, u := s.user(w, r)
	if u == nil {
		return
	}
	if st := s.faults.FailKey(u.Fields["Alias"]); st != 0 {
		s.fail(w, r, st, "SYSTEM_ERROR", "An unexpected error occurred while processing the request")
		return
	}
	role := s.roleByID(body["RoleObjectId"])
	if role == nil {
		s.fail(w, r, 400, "INVALID_PARAMETER", "role "+body["RoleObjectId"]+" does not exist")
		return
	}
	for _, rid := range u.UserRoles {
		if rid == body["RoleObjectId"] {
			s.fail(w, r, 409, "DUPLICATE_OBJECT", "the user already holds the role "+role["RoleName"])
			return
		}
	}
	urID := s.newID()
	u.UserRoles[urID] = body["RoleObjectId"]
	s.Writes.Add("cupi/userrole:" + strings.ToLower(u.Fields["Alias"]) + ":" + role["RoleName"] + ":add")
	s.dirty.Store(true)
	writeCreated(w, "/vmrest/users/"+id+"/userroles/"+urID)
}

func (s *Server) deleteUserRole(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, u := s.user(w, r)
	if u == nil {
		return
	}
	if st := s.faults.FailKey(u.Fields["Alias"]); st != 0 {
		s.fail(w, r, st, "SYSTEM_ERROR", "An unexpected error occurred while processing the request")
		return
	}
	ur := r.PathValue("ur")
	roleID, ok := u.UserRoles[ur]
	if !ok {
		s.fail(w, r, 404, "NOT_FOUND", "user role "+ur+" not found")
		return
	}
	delete(u.UserRoles, ur)
	s.Writes.Add("cupi/userrole:" + strings.ToLower(u.Fields["Alias"]) + ":" + s.roleByID(roleID)["RoleName"] + ":delete")
	s.dirty.Store(true)
	s.deleted(w)
}

func (s *Server) policyObjects() []map[string]string {
	var out []map[string]string
	for _, p := range s.policies {
		out = append(out, map[string]string{"URI": "/vmrest/credentialpolicies/" + p.ObjectId, "ObjectId": p.ObjectId,
			"DisplayName": p.DisplayName, "MinLength": strconv.Itoa(p.MinLength), "PreviousCredentialsCount": strconv.Itoa(p.History)})
	}
	return out
}

func (s *Server) static(plural, elem string, items func() []map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		all := items()
		lo, hi, countOnly, ok := s.page(r, len(all))
		if !ok {
			s.fail(w, r, 400, "INVALID_PARAMETER", "rowsPerPage and pageNumber must be whole numbers")
			return
		}
		var page []map[string]string
		if !countOnly {
			page = all[lo:hi]
		}
		writeList(w, r, plural, elem, len(all), page)
	}
}

var authzWritable = map[string]bool{"DisplayName": true, "ServerNodeAddress": true, "Port": true,
	"ServerUsername": true, "ServerPassword": true, "IgnoreCertificateError": true}

func authzObject(id string, a map[string]string) map[string]string {
	o := map[string]string{}
	for k, v := range a {
		if k != "secretHash" {
			o[k] = v
		}
	}
	o["ObjectId"], o["ServerPassword"] = id, "" // write-only
	return o
}

func (s *Server) listAuthz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var ids []string
	for id := range s.st.Authz {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return s.st.Authz[ids[i]]["DisplayName"] < s.st.Authz[ids[j]]["DisplayName"] })
	var items []map[string]string
	for _, id := range ids {
		items = append(items, authzObject(id, s.st.Authz[id]))
	}
	s.mu.Unlock()
	writeList(w, r, "AuthzServers", "AuthzServer", len(items), items)
}

func (s *Server) checkAuthz(body map[string]string, self string) string {
	for k, v := range body {
		if !authzWritable[k] {
			return "field " + k + " is not writable"
		}
		if k == "Port" {
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
				return "Port must be a number from 1 to 65535"
			}
		}
		if k == "IgnoreCertificateError" && v != "true" && v != "false" {
			return "IgnoreCertificateError must be true or false"
		}
	}
	for id, a := range s.st.Authz {
		if id != self && body["DisplayName"] != "" && strings.EqualFold(a["DisplayName"], body["DisplayName"]) {
			return "an authorization server named " + body["DisplayName"] + " already exists"
		}
	}
	return ""
}

func (s *Server) storeAuthz(a, body map[string]string) {
	for k, v := range body {
		if k == "ServerPassword" {
			a["secretHash"] = hashSecret("authz", "server", v)
			continue
		}
		if kept, ok := s.keep("authzserver", k, v); ok {
			a[k] = kept
		}
	}
}

func (s *Server) createAuthz(w http.ResponseWriter, r *http.Request) {
	body, ok := s.body(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if body["DisplayName"] == "" || body["ServerNodeAddress"] == "" {
		s.fail(w, r, 400, "MISSING_PARAMETER", "DisplayName and ServerNodeAddress are required")
		return
	}
	if msg := s.checkAuthz(body, ""); msg != "" {
		s.fail(w, r, 400, "DATA_EXCEPTION", msg)
		return
	}
	id := s.newID()
	a := map[string]string{"Port": "8443", "IgnoreCertificateError": "false", "LastSyncStatus": "Passed"}
	s.storeAuthz(a, body)
	s.st.Authz[id] = a
	s.Writes.Add("cupi/authz:" + strings.ToLower(body["DisplayName"]) + ":create")
	s.dirty.Store(true)
	writeCreated(w, "/vmrest/authz/server/"+id)
}

func (s *Server) updateAuthz(w http.ResponseWriter, r *http.Request) {
	body, ok := s.body(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	a := s.st.Authz[id]
	if a == nil {
		s.fail(w, r, 404, "NOT_FOUND", "authorization server "+id+" not found")
		return
	}
	if msg := s.checkAuthz(body, id); msg != "" {
		s.fail(w, r, 400, "DATA_EXCEPTION", msg)
		return
	}
	s.storeAuthz(a, body)
	s.Writes.Add("cupi/authz:" + strings.ToLower(a["DisplayName"]) + ":update")
	s.dirty.Store(true)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteAuthz(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	a := s.st.Authz[id]
	if a == nil {
		s.fail(w, r, 404, "NOT_FOUND", "authorization server "+id+" not found")
		return
	}
	delete(s.st.Authz, id)
	s.Writes.Add("cupi/authz:" + strings.ToLower(a["DisplayName"]) + ":delete")
	s.dirty.Store(true)
	s.deleted(w)
}

// Save returns the state as JSON and clears the dirty mark.
func (s *Server) Save() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirty.Store(false)
	return json.Marshal(&s.st)
}

// Dirty reports whether the state changed since the last Save.
func (s *Server) Dirty() bool { return s.dirty.Load() }

// Load replaces the state with a saved one.
func (s *Server) Load(b []byte) error {
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	if st.Users == nil {
		st.Users = map[string]*User{}
	}
	if st.Authz == nil {
		st.Authz = map[string]map[string]string{}
	}
	s.mu.Lock()
	s.st = st
	s.reindex()
	s.mu.Unlock()
	return nil
}

// UserCount returns the number of users.
func (s *Server) UserCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.Users)
}
