package cupi

import "testing"

func FuzzDecodeJSONList(f *testing.F) {
	f.Add([]byte(`{"@total":"1","User":{"Alias":"a"}}`))
	f.Add([]byte(`{"@total":"2","User":[{"Alias":"a"},{"Alias":"b","X":{"y":1}}]}`))
	f.Add([]byte(`{"@total":"0"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, items, err := DecodeJSONList(data, "User")
		if err == nil && n < 0 {
			t.Fatalf("negative total %d (%d items)", n, len(items))
		}
		_, _ = ParseError(data)
	})
}

func FuzzDecodeXMLList(f *testing.F) {
	f.Add([]byte(`<Users total="1"><User><Alias>a</Alias></User></Users>`))
	f.Add([]byte(`<ErrorDetails><errors><code>X</code><message>m</message></errors></ErrorDetails>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = DecodeXMLList(data)
		_, _ = ParseError(data)
	})
}
