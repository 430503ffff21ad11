package jsonx

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// WriteIndentArray writes to w what MarshalIndent(v, "", indent) gives
// for a v whose top-level field (JSON name field) holds n elements, one
// element at a time: head is v with that field an empty, non-nil slice,
// and elem(i) the i-th element. Neither the whole value nor its encoding
// is held in memory at once, only one element's. The bytes are the same.
// With n == 0 head is written as it is (its field empty or null).
func WriteIndentArray(w io.Writer, head any, field string, indent string, n int, elem func(i int) any) error {
	return splice(w, head, `"`+field+`": []`, indent, n, func(i int) ([]byte, error) {
		return MarshalIndent(elem(i), indent+indent, indent)
	})
}

// WriteIndentMap is WriteIndentArray for a top-level field that is a map
// with string keys: head has it empty and non-nil, keys are the map's keys
// sorted as encoding/json sorts them (sort.Strings), and value(k) is the
// value of key k.
func WriteIndentMap(w io.Writer, head any, field string, indent string, keys []string, value func(k string) any) error {
	return splice(w, head, `"`+field+`": {}`, indent, len(keys), func(i int) ([]byte, error) {
		k, err := Marshal(keys[i])
		if err != nil {
			return nil, err
		}
		v, err := MarshalIndent(value(keys[i]), indent+indent, indent)
		return append(append(k, ": "...), v...), err
	})
}

// splice writes head indented, with the n members member(i) encodes put
// inside the empty top-level member mark ("field": [] or "field": {}).
func splice(w io.Writer, head any, mark string, indent string, n int, member func(i int) ([]byte, error)) error {
	b, err := MarshalIndent(head, "", indent)
	if err != nil {
		return err
	}
	if n == 0 {
		_, err := w.Write(b)
		return err
	}
	at := bytes.Index(b, []byte("\n"+indent+mark))
	if at < 0 {
		return fmt.Errorf("jsonx: no empty top-level %s in the head", mark)
	}
	at += len("\n"+indent+mark) - 1 // at the closing bracket
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(b[:at])
	for i := 0; i < n; i++ {
		m, err := member(i)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n" + indent + indent)
		bw.Write(m)
	}
	bw.WriteString("\n" + indent)
	bw.Write(b[at:])
	return bw.Flush()
}
