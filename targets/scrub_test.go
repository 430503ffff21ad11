package targets_test

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"

	"github.com/bulkprov/bulkprov/targets"
)

func xmlEscaped(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func jsonEscaped(s string) string {
	b, _ := json.Marshal(s) // escapes <, >, & as \u003c...
	return strings.Trim(string(b), `"`)
}

// Every secret the run holds is hidden in whatever a server quotes back:
// in clear, URL-encoded, JSON-escaped, XML-escaped, base64 (any
// alignment, either alphabet), and one encoding inside another.
func TestScrubHidesEveryEncoding(t *testing.T) {
	const pw = `Pa<ss>&"wörd/+1 é`
	const pin = "482913"
	const admin = "Admin-Secret-42"
	targets.AddSecret(pw)
	targets.AddSecret(pin)
	targets.AddSecret(admin)
	for _, tc := range []struct{ name, text string }{
		{"clear", "refused: Credentials=" + pw + " (policy)"},
		{"query", "refused: /vmrest/users?x=" + url.QueryEscape(pw)},
		{"path", "refused: /vmrest/" + url.PathEscape(pw) + "/x"},
		{"json", `{"errors":{"message":"bad request {\"Credentials\":\"` + jsonEscaped(pw) + `\"}"}}`},
		{"json unicode", `{"Credentials":"` + strings.ReplaceAll(jsonEscaped(pw), "ö", `\u00f6`) + `"}`},
		{"xml", "<message>&lt;Credentials&gt;" + xmlEscaped(pw) + "&lt;/Credentials&gt;</message>"},
		{"xml numeric", "<m>" + strings.ReplaceAll(xmlEscaped(pw), "w", "&#119;") + "</m>"},
		{"base64", "body " + base64.StdEncoding.EncodeToString([]byte(pw)) + " end"},
		{"base64 url", "body " + base64.URLEncoding.EncodeToString([]byte("x"+pw)) + " end"},
		{"basic auth echo", "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+admin))},
		{"basic auth 2", "Basic " + base64.StdEncoding.EncodeToString([]byte("ab:"+admin+"z"))},
		{"xml in json", `{"m":"` + jsonEscaped("<Credentials>"+xmlEscaped(pw)+"</Credentials>") + `"}`},
		{"url in json", `{"m":"` + jsonEscaped("?p="+url.QueryEscape(pw)) + `"}`},
		{"base64 of json", "b64 " + base64.StdEncoding.EncodeToString([]byte(`{"Credentials":"`+jsonEscaped(pw)+`"}`))},
		{"pin", "PIN " + pin + " was used before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := targets.Scrub(tc.text)
			for _, secret := range []string{pw, pin, admin} {
				for _, enc := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), jsonEscaped(secret), xmlEscaped(secret),
					base64.StdEncoding.EncodeToString([]byte(secret)), strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(secret)), "=")} {
					if strings.Contains(got, enc) {
						t.Errorf("secret left as %q in %q", enc, got)
					}
				}
			}
			if !strings.Contains(got, targets.Redaction) {
				t.Errorf("nothing hidden in %q", got)
			}
		})
	}
	// What holds no secret is left as it is.
	for _, s := range []string{"", "ok", `{"errors":{"code":"INVALID","message":"Alias already exists"}}`, "Basic YWJjOmRlZg=="} {
		if got := targets.Scrub(s); got != s {
			t.Errorf("Scrub(%q) = %q", s, got)
		}
	}
}
