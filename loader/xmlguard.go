package loader

import (
	"encoding/xml"
	"fmt"
	"io"
)

// xmlPart decodes one XML part of a workbook under the limits: strict XML,
// element nesting at most Limits.MaxXMLDepth, and no run of more than
// maxRun bytes without a '<' (a text node or a tag longer than any cell
// could need). The decoder keeps a stack entry per open element and buffers
// a whole text node or tag, so these two bounds are what keep a small
// hostile part from taking gigabytes.
type xmlPart struct {
	d     *xml.Decoder
	g     *guardReader
	depth int
	max   int
	// elems counts start elements; past maxElems (when set) the part is
	// refused with tooMany, so an element flood stops early.
	elems, maxElems int
	tooMany         error
}

func newXMLPart(r io.Reader, lim Limits) *xmlPart {
	g := &guardReader{r: r, buf: make([]byte, 32<<10), maxRun: 10*lim.MaxCellChars + 4096, limits: lim}
	d := xml.NewDecoder(g)
	d.Strict = true
	return &xmlPart{d: d, g: g, max: lim.MaxXMLDepth}
}

// Token returns the next token, or an error when the part is not
// well-formed XML or breaches a limit (a *LimitError).
func (p *xmlPart) Token() (xml.Token, error) {
	tok, err := p.d.Token()
	if p.g.err != nil {
		return nil, p.g.err
	}
	if err != nil {
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		p.depth++
		if p.depth > p.max {
			return nil, &LimitError{What: "levels of XML element nesting", Limit: int64(p.max), Flag: "max-xml-depth"}
		}
		if p.elems++; p.maxElems > 0 && p.elems > p.maxElems {
			return nil, p.tooMany
		}
	case xml.EndElement:
		p.depth--
	}
	return tok, nil
}

// guardReader is the byte source of an xmlPart: a buffered reader (so the
// decoder does not add its own bufio) that counts the bytes since the last
// '<' and fails past maxRun.
type guardReader struct {
	r      io.Reader
	buf    []byte
	i, n   int
	run    int
	maxRun int
	limits Limits
	err    error // the limit breach, kept so Token reports it as such
}

func (g *guardReader) fill() error {
	if g.err != nil {
		return g.err
	}
	n, err := g.r.Read(g.buf)
	g.i, g.n = 0, n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// ReadByte implements io.ByteReader, which the decoder uses byte by byte.
func (g *guardReader) ReadByte() (byte, error) {
	if g.i >= g.n {
		if err := g.fill(); err != nil {
			return 0, err
		}
	}
	c := g.buf[g.i]
	g.i++
	if c == '<' {
		g.run = 0
	} else if g.run++; g.run > g.maxRun {
		g.err = fmt.Errorf("%d bytes without markup: %w", g.run, &LimitError{What: "characters per cell", Limit: int64(g.limits.MaxCellChars), Flag: "max-cell-chars"})
		return 0, g.err
	}
	return c, nil
}

// Read implements io.Reader; the decoder does not call it once it has
// ReadByte, but io.Reader is what it is given.
func (g *guardReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := g.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		p[n] = c
		n++
	}
	return n, nil
}
