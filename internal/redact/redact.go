// Package redact hides the secrets a run holds in any text quoted from a
// server, before it is logged, reported or journaled (issue 23, finding
// 5). It is a leaf: the engine's vocabulary registers secrets here and the
// clients scrub their errors, neither knowing the other.
package redact

import (
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The secret scrubber (issue 23, finding 5). A server may quote the
// request it refused — the users' passwords and PINs in it — or echo the
// Authorization header; every text a client quotes from a server passes
// Scrub before it becomes an error, and so before anything is logged,
// reported or journaled.
//
// AddSecret registers every secret the run holds (engine.Secrets.Set does
// it for every password, PIN and server password an input or the
// one-time generator gives; the clients for the admin's own password).
// Scrub then hides each of them wherever it occurs in a text: as it is,
// URL-encoded (%XX or +), JSON-escaped (\uXXXX, \", ...), XML-escaped
// (&amp;, &#NN;, ...), base64-encoded (standard or URL alphabet, at any
// alignment, as in "Basic dXNlcjpwYXNz"), or one encoding inside another.
// Rather than hold every encoding of every secret (seven or more each, a
// million users in a big run), it holds one 64-bit hash per secret and
// decodes the text instead, mapping each decoded byte back to the bytes
// it came from: a match hides those bytes (a base64 run is hidden whole).
// A hash collision hides a few harmless characters; it never shows a
// secret.

// minSecret is the shortest value scrubbed: shorter ones would blank
// out ordinary words and numbers (a PIN policy asks for more anyway).
const minSecret = 3

type scrubber struct {
	mu     sync.RWMutex
	hashes map[uint64]struct{}
	lens   map[int]int // length -> secrets of that length
	sorted []int       // distinct lengths, longest first
}

var secrets = &scrubber{hashes: map[uint64]struct{}{}, lens: map[int]int{}}

// AddSecret registers s so that Scrub hides it. Safe for concurrent use.
func AddSecret(s string) {
	if len(s) < minSecret {
		return
	}
	h := rollHash(s)
	secrets.mu.RLock()
	_, ok := secrets.hashes[h]
	secrets.mu.RUnlock()
	if ok {
		return
	}
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	if _, ok := secrets.hashes[h]; ok {
		return
	}
	secrets.hashes[h] = struct{}{}
	if secrets.lens[len(s)]++; secrets.lens[len(s)] == 1 {
		secrets.sorted = nil
		for l := range secrets.lens {
			secrets.sorted = append(secrets.sorted, l)
		}
		sortDesc(secrets.sorted)
	}
}

func sortDesc(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] > a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// Redaction is what Scrub puts where a secret was.
const Redaction = "***"

// Scrub returns text with every registered secret hidden, in clear or
// encoded.
func Scrub(text string) string {
	if len(text) < minSecret {
		return text
	}
	secrets.mu.RLock()
	defer secrets.mu.RUnlock()
	if len(secrets.hashes) == 0 {
		return text
	}
	hide := make([]bool, len(text))
	found := false
	base := identity(text)
	views := []view{base}
	for _, dec := range decoders {
		if v, ok := dec(base); ok {
			views = append(views, v)
			for _, dec2 := range decoders {
				if v2, ok := dec2(v); ok {
					views = append(views, v2)
				}
			}
		}
	}
	for _, v := range views {
		found = secrets.mark(v, hide) || found
	}
	for _, v := range base64Views(text) {
		// What was encoded may itself be escaped (a JSON body).
		hit := secrets.mark(v.view, nil)
		for _, dec := range decoders {
			if hit {
				break
			}
			if d, ok := dec(v.view); ok {
				hit = secrets.mark(d, nil)
			}
		}
		if hit {
			found = true
			for i := v.from; i < v.to; i++ {
				hide[i] = true
			}
		}
	}
	if !found {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		if !hide[i] {
			b.WriteByte(text[i])
			i++
			continue
		}
		b.WriteString(Redaction)
		for i < len(text) && hide[i] {
			i++
		}
	}
	return b.String()
}

// view is a decoding of a text: text[i] came from original bytes
// from[i] up to to[i] (exclusive).
type view struct {
	text     string
	from, to []int
}

func identity(s string) view {
	v := view{text: s, from: make([]int, len(s)), to: make([]int, len(s))}
	for i := 0; i < len(s); i++ { // bytes, not runes
		v.from[i], v.to[i] = i, i+1
	}
	return v
}

// mark finds every registered secret in v and marks the original bytes
// it came from in hide (nil: only report).
func (s *scrubber) mark(v view, hide []bool) bool {
	found := false
	t := v.text
	for _, l := range s.sorted {
		if l > len(t) {
			continue
		}
		// Rabin-Karp over windows of length l.
		h := rollHash(t[:l])
		pow := rollPow(l)
		for i := 0; ; i++ {
			if _, ok := s.hashes[h]; ok {
				found = true
				if hide == nil {
					return true
				}
				for k := v.from[i]; k < v.to[i+l-1]; k++ {
					hide[k] = true
				}
			}
			if i+l >= len(t) {
				break
			}
			h = (h-uint64(t[i])*pow)*rollBase + uint64(t[i+l])
		}
	}
	return found
}

const rollBase = 1099511628211

func rollHash(s string) uint64 {
	var h uint64
	for i := 0; i < len(s); i++ {
		h = h*rollBase + uint64(s[i])
	}
	return h
}

// rollPow is rollBase^(l-1), the weight of a window's first byte.
func rollPow(l int) uint64 {
	p := uint64(1)
	for i := 1; i < l; i++ {
		p *= rollBase
	}
	return p
}

// builder accumulates a decoded view.
type builder struct {
	b        []byte
	from, to []int
	changed  bool
}

func (b *builder) add(s string, from, to int) {
	for i := 0; i < len(s); i++ {
		b.b = append(b.b, s[i])
		b.from = append(b.from, from)
		b.to = append(b.to, to)
	}
}

func (b *builder) view() view { return view{text: string(b.b), from: b.from, to: b.to} }

var decoders = []func(view) (view, bool){
	func(v view) (view, bool) { return percentDecode(v, true) },  // a query: + is a space
	func(v view) (view, bool) { return percentDecode(v, false) }, // a path: + is itself
	jsonUnescape, xmlUnescape,
}

// percentDecode undoes URL encoding (%XX, and + for a space in a query).
func percentDecode(v view, query bool) (view, bool) {
	t := v.text
	if !strings.Contains(t, "%") && (!query || !strings.Contains(t, "+")) {
		return v, false
	}
	var b builder
	for i := 0; i < len(t); i++ {
		switch {
		case t[i] == '%' && i+2 < len(t) && isHex(t[i+1]) && isHex(t[i+2]):
			n, _ := strconv.ParseUint(t[i+1:i+3], 16, 8)
			b.add(string([]byte{byte(n)}), v.from[i], v.to[i+2])
			b.changed = true
			i += 2
		case t[i] == '+' && query:
			b.add(" ", v.from[i], v.to[i])
			b.changed = true
		default:
			b.add(t[i:i+1], v.from[i], v.to[i])
		}
	}
	return b.view(), b.changed
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// jsonUnescape undoes JSON string escapes (\", \\, \/, \n, \uXXXX and
// surrogate pairs).
func jsonUnescape(v view) (view, bool) {
	t := v.text
	if !strings.Contains(t, `\`) {
		return v, false
	}
	var b builder
	for i := 0; i < len(t); i++ {
		if t[i] != '\\' || i+1 >= len(t) {
			b.add(t[i:i+1], v.from[i], v.to[i])
			continue
		}
		c := t[i+1]
		if c == 'u' && i+5 < len(t) {
			if n, err := strconv.ParseUint(t[i+2:i+6], 16, 32); err == nil {
				r, end := rune(n), i+5
				if r >= 0xD800 && r < 0xDC00 && end+6 < len(t) && t[end+1] == '\\' && t[end+2] == 'u' {
					if lo, err := strconv.ParseUint(t[end+3:end+7], 16, 32); err == nil && lo >= 0xDC00 && lo < 0xE000 {
						r = (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
						end += 6
					}
				}
				b.add(string(r), v.from[i], v.to[end])
				b.changed = true
				i = end
				continue
			}
		}
		if s, ok := jsonSimple[c]; ok {
			b.add(s, v.from[i], v.to[i+1])
			b.changed = true
			i++
			continue
		}
		b.add(t[i:i+1], v.from[i], v.to[i])
	}
	return b.view(), b.changed
}

var jsonSimple = map[byte]string{'"': `"`, '\\': `\`, '/': "/", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t"}

// xmlUnescape undoes XML (and HTML) character references: the five named
// entities and &#NN; / &#xHH;.
func xmlUnescape(v view) (view, bool) {
	t := v.text
	if !strings.Contains(t, "&") {
		return v, false
	}
	named := map[string]string{"amp": "&", "lt": "<", "gt": ">", "quot": `"`, "apos": "'"}
	var b builder
	for i := 0; i < len(t); i++ {
		if t[i] == '&' {
			if end := strings.IndexByte(t[i:min(len(t), i+12)], ';'); end > 1 {
				ent := t[i+1 : i+end]
				s, ok := named[ent]
				if !ok && strings.HasPrefix(ent, "#") {
					var n uint64
					var err error
					if strings.HasPrefix(ent, "#x") || strings.HasPrefix(ent, "#X") {
						n, err = strconv.ParseUint(ent[2:], 16, 32)
					} else {
						n, err = strconv.ParseUint(ent[1:], 10, 32)
					}
					if ok = err == nil && utf8.ValidRune(rune(n)); ok {
						s = string(rune(n))
					}
				}
				if ok {
					b.add(s, v.from[i], v.to[i+end])
					b.changed = true
					i += end
					continue
				}
			}
		}
		b.add(t[i:i+1], v.from[i], v.to[i])
	}
	return b.view(), b.changed
}

// b64view is a decoding of the base64 run text[from:to].
type b64view struct {
	view
	from, to int
}

// base64Views decodes each run of base64 characters of text (standard or
// URL alphabet) at each of its four alignments: a secret encoded inside a
// longer value ("user:password") sits at any of them.
func base64Views(text string) []b64view {
	var out []b64view
	isB64 := func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
	}
	for i := 0; i < len(text); {
		if !isB64(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isB64(text[j]) {
			j++
		}
		run := text[i:j]
		if len(run)*3/4 >= minSecret {
			std := strings.NewReplacer("-", "+", "_", "/").Replace(run)
			for off := 0; off < 4 && len(std)-off >= 4; off++ {
				part := std[off:]
				part = part[:len(part)/4*4]
				dec, err := base64.StdEncoding.DecodeString(part)
				if err != nil || len(dec) < minSecret {
					continue
				}
				out = append(out, b64view{view: identity(string(dec)), from: i, to: j})
			}
			// A run whose length is not a multiple of four at the end
			// (unpadded): decode its tail too.
			if r := len(std) % 4; r != 0 {
				if dec, err := base64.RawStdEncoding.DecodeString(std); err == nil && len(dec) >= minSecret {
					out = append(out, b64view{view: identity(string(dec)), from: i, to: j})
				}
			}
		}
		i = j
	}
	return out
}
