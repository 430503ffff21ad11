package sim_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulkprov/bulkprov/targets"
	"github.com/bulkprov/bulkprov/targets/cupi"
	"github.com/bulkprov/bulkprov/targets/cupi/sim"
)

func newPair(t *testing.T, o sim.Options) (*sim.Server, *cupi.Client, *httptest.Server) {
	t.Helper()
	o.User, o.Password = "admin", "s3cret-admin"
	s := sim.New(o)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	hc, err := targets.NewHTTPClient(targets.HTTPOptions{Conns: 32})
	if err != nil {
		t.Fatal(err)
	}
	return s, cupi.New(ts.URL, hc, targets.Credentials{User: "admin", Password: "s3cret-admin"}), ts
}

func TestUserLifecycle(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newPair(t, sim.Options{})
	id, err := c.CreateUser(ctx, "voicemailusertemplate", cupi.Object{"Alias": "jdoe", "DtmfAccessId": "007890", "FirstName": "J"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.FindUser(ctx, "JDOE")
	if err != nil || u["ObjectId"] != id || u["DtmfAccessId"] != "007890" {
		t.Fatalf("FindUser = %v, %v; want id %s and extension with its zeros", u, err, id)
	}
	if _, err := c.CreateUser(ctx, "voicemailusertemplate", cupi.Object{"Alias": "jdoe", "DtmfAccessId": "1"}); targets.Classify(err) != targets.Permanent || !strings.Contains(err.Error(), "400") {
		t.Fatalf("duplicate alias: %v, want 400", err)
	}
	if _, err := c.CreateUser(ctx, "nosuchtemplate", cupi.Object{"Alias": "x", "DtmfAccessId": "2"}); err == nil {
		t.Fatal("unknown template accepted")
	}
	if _, err := c.CreateUser(ctx, "voicemailusertemplate", cupi.Object{"Alias": "x"}); err == nil {
		t.Fatal("user without DtmfAccessId accepted")
	}
	if err := c.UpdateUser(ctx, id, cupi.Object{"LastName": "Doe"}); err != nil {
		t.Fatal(err)
	}
	// Credentials: settings readable, secret never; policy enforced.
	if err := c.SetCredential(ctx, id, cupi.Password, cupi.Object{"Credentials": "short"}); err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("short password: %v (must fail without echoing the secret)", err)
	}
	if err := c.SetCredential(ctx, id, cupi.Password, cupi.Object{"Credentials": "Long-Enough-1", "Locked": "true"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetCredential(ctx, id, cupi.Password, cupi.Object{"Credentials": "Long-Enough-1"}); err == nil {
		t.Fatal("reused password accepted; a real server refuses it by policy history")
	}
	cred, err := c.Credential(ctx, id, cupi.Password)
	if err != nil || cred["Locked"] != "true" || cred["Credentials"] != "" {
		t.Fatalf("credential = %v, %v", cred, err)
	}
	if err := c.SetCredential(ctx, id, cupi.PIN, cupi.Object{"Credentials": "12ab56"}); err == nil {
		t.Fatal("non-digit PIN accepted")
	}
	// Roles: one role comes back as an object, the client reads it.
	roles, err := c.Roles(ctx)
	if err != nil || len(roles) < 5 {
		t.Fatalf("roles = %v, %v", roles, err)
	}
	urID, err := c.AddUserRole(ctx, id, roles[0]["ObjectId"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddUserRole(ctx, id, roles[0]["ObjectId"]); err == nil {
		t.Fatal("duplicate user role accepted")
	}
	urs, err := c.UserRoles(ctx, id)
	if err != nil || len(urs) != 1 || urs[0]["RoleName"] != roles[0]["RoleName"] {
		t.Fatalf("user roles = %v, %v", urs, err)
	}
	if err := c.DeleteUserRole(ctx, id, urID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FindUser(ctx, "jdoe"); !errors.Is(err, targets.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestAuthzServerPasswordIsWriteOnly(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newPair(t, sim.Options{})
	id, err := c.CreateAuthzServer(ctx, cupi.Object{"DisplayName": "A1", "ServerNodeAddress": "10.0.0.1", "ServerPassword": "Authz-Secret"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.AuthzServers(ctx)
	if err != nil || len(list) != 1 || list[0]["ObjectId"] != id || list[0]["ServerPassword"] != "" {
		t.Fatalf("list = %v, %v", list, err)
	}
	if err := c.UpdateAuthzServer(ctx, id, cupi.Object{"Port": "99999"}); err == nil {
		t.Fatal("bad port accepted")
	}
}

func TestPagingByTotal(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newPair(t, sim.Options{MaxPage: 7})
	for i := 0; i < 23; i++ {
		if _, err := c.CreateUser(ctx, "voicemailusertemplate", cupi.Object{"Alias": "u" + string(rune('a'+i)), "DtmfAccessId": string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	if err := c.ListUsers(ctx, func(cupi.Object) error { n++; return nil }); err != nil || n != 23 {
		t.Fatalf("listed %d users (%v), want 23 across pages of 7", n, err)
	}
}

func TestAuthRequired(t *testing.T) {
	_, _, ts := newPair(t, sim.Options{})
	resp, err := http.Get(ts.URL + "/vmrest/users")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("status %d without credentials, want 401", resp.StatusCode)
	}
}

func TestSeedExamplesParse(t *testing.T) {
	// The JSON example of seed 004: one user role comes as an object.
	one := `{"@total":"1","UserRole":{"URI":"/vmrest/users/a9/userroles/16","ObjectId":"167b7661","RoleName":"Help Desk Administrator"}}`
	n, items, err := cupi.DecodeJSONList([]byte(one), "UserRole")
	if err != nil || n != 1 || len(items) != 1 || items[0]["RoleName"] != "Help Desk Administrator" {
		t.Fatalf("one-item object: %d %v %v", n, items, err)
	}
	n, items, err = cupi.DecodeJSONList([]byte(`{"@total":"0"}`), "User")
	if err != nil || n != 0 || len(items) != 0 {
		t.Fatalf("empty: %d %v %v", n, items, err)
	}
	// The XML example of seed 003.
	x := `<AuthzServers total="2"><AuthzServer><ObjectId>f976</ObjectId><DisplayName>AuthzServer1</DisplayName><ServerPassword /><Port>8443</Port></AuthzServer><AuthzServer><ObjectId>69b8</ObjectId><DisplayName>AuthzServer2</DisplayName></AuthzServer></AuthzServers>`
	n, items, err = cupi.DecodeXMLList([]byte(x))
	if err != nil || n != 2 || items[1]["DisplayName"] != "AuthzServer2" || items[0]["Port"] != "8443" {
		t.Fatalf("xml: %d %v %v", n, items, err)
	}
	for _, tc := range []struct{ body, code, msg string }{
		{`{"errors":{"code":"DATA_EXCEPTION","message":"dup"}}`, "DATA_EXCEPTION", "dup"},
		{`{"errors":{"code":"X","error":["a","b"]}}`, "X", "a; b"},
		{`<ErrorDetails><errors><code>C</code><message>m</message></errors></ErrorDetails>`, "C", "m"},
		{`plain text`, "", "plain text"},
	} {
		code, msg := cupi.ParseError([]byte(tc.body))
		if code != tc.code || msg != tc.msg {
			t.Errorf("ParseError(%s) = %q %q", tc.body, code, msg)
		}
	}
}

// The throttle: with 5 slots and a slow service time, 20 concurrent
// requests never see more than 5 in service, and a short queue timeout
// turns waiting into 503.
func TestThrottle(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newPair(t, sim.Options{Slots: 5, ServiceTime: 30 * time.Millisecond})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Roles(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := s.MaxInService(); got != 5 {
		t.Fatalf("max in service = %d, want exactly 5 (20 concurrent requests, 5 slots)", got)
	}

	s2, c2, _ := newPair(t, sim.Options{Slots: 1, ServiceTime: 100 * time.Millisecond, QueueTimeout: 10 * time.Millisecond})
	var busy int
	var mu sync.Mutex
	var wg2 sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			_, err := c2.Roles(ctx)
			var ae *targets.APIError
			if errors.As(err, &ae) && ae.Status == 503 {
				mu.Lock()
				busy++
				mu.Unlock()
			}
		}()
	}
	wg2.Wait()
	if busy == 0 || s2.Rejected() != busy {
		t.Fatalf("503s seen = %d, simulator rejected %d; want some, and equal", busy, s2.Rejected())
	}
}

// The XML request and answer of seed 000: PUT credential settings as XML
// (204), read them back as XML.
func TestXMLCredentialSettings(t *testing.T) {
	ctx := context.Background()
	_, c, ts := newPair(t, sim.Options{})
	id, err := c.CreateUser(ctx, "voicemailusertemplate", cupi.Object{"Alias": "x", "DtmfAccessId": "1"})
	if err != nil {
		t.Fatal(err)
	}
	body := `<Credential><Locked>false</Locked><DoesntExpire>true</DoesntExpire><CredMustChange>true</CredMustChange></Credential>`
	req, _ := http.NewRequest("PUT", ts.URL+"/vmrest/users/"+id+"/credential/password", strings.NewReader(body))
	req.SetBasicAuth("admin", "s3cret-admin")
	req.Header.Set("Content-Type", "application/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("PUT XML: %v %v", resp, err)
	}
	resp.Body.Close()
	req, _ = http.NewRequest("GET", ts.URL+"/vmrest/users/"+id+"/credential/password", nil)
	req.SetBasicAuth("admin", "s3cret-admin")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	o, err := cupi.DecodeXMLObject(b)
	if err != nil || o["DoesntExpire"] != "true" || o["CredMustChange"] != "true" || o["Credentials"] != "" || !strings.HasPrefix(string(b), "<Credential>") {
		t.Fatalf("GET XML: %s (%v)", b, err)
	}
}
