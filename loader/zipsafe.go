package loader

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// safeZip is a zip archive opened under the input limits: entry count and
// declared sizes are checked up front, actual bytes as they are read.
type safeZip struct {
	*zip.Reader
	name   string
	limits Limits
	budget int64 // uncompressed bytes still allowed, across all entries
}

var (
	magicZip = []byte("PK\x03\x04")
	magicOLE = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// openZip opens the zip archive in ra (size bytes) after checking what it
// really is: the first bytes tell a zip from an encrypted or legacy
// workbook and from text.
func openZip(ra io.ReaderAt, size int64, display string, limits Limits, what string) (*safeZip, error) {
	head := make([]byte, 8)
	n, _ := ra.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, magicOLE):
		return nil, fmt.Errorf("%s: this is an encrypted (password-protected) or legacy .xls workbook; save it as a plain .xlsx without a password", display)
	case !bytes.HasPrefix(head, magicZip) && !bytes.HasPrefix(head, []byte("PK\x05\x06")):
		hint := ""
		if looksLikeText(head) {
			hint = " (it looks like text: if it is a CSV, name it .csv)"
		}
		return nil, fmt.Errorf("%s: not a valid %s: the file is not a zip archive%s", display, what, hint)
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid %s: %v", display, what, err)
	}
	z := &safeZip{Reader: zr, name: display, limits: limits, budget: limits.MaxBytes}
	if len(zr.File) > limits.MaxEntries {
		return nil, fmt.Errorf("%s: %w", display, &LimitError{What: "zip entries", Limit: int64(limits.MaxEntries), Flag: "max-zip-entries"})
	}
	var declared uint64
	for _, zf := range zr.File {
		if !safeEntryName(zf.Name) {
			return nil, fmt.Errorf("%s: unsafe zip entry name %q (absolute or escaping with ..); refusing the archive", display, zf.Name)
		}
		declared += zf.UncompressedSize64
		if declared > uint64(limits.MaxBytes) {
			return nil, fmt.Errorf("%s: declared uncompressed size %w", display, &LimitError{What: "bytes uncompressed", Limit: limits.MaxBytes, Flag: "max-bytes"})
		}
	}
	return z, nil
}

func looksLikeText(b []byte) bool {
	for _, c := range b {
		if c < 9 || (c > 13 && c < 32) {
			return false
		}
	}
	return len(b) > 0
}

func safeEntryName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "\\") || strings.Contains(name, ":\\") {
		return false
	}
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return false
		}
	}
	return path.Clean(name) != ".."
}

// find returns the entry named name (case-insensitively), or nil.
func (z *safeZip) find(name string) *zip.File {
	for _, f := range z.File {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// open opens an entry; reads beyond the remaining byte budget fail with a
// LimitError, whatever size the entry declared.
func (z *safeZip) open(f *zip.File) (io.ReadCloser, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", z.name, f.Name, err)
	}
	return &budgetReader{rc: rc, z: z}, nil
}

type budgetReader struct {
	rc io.ReadCloser
	z  *safeZip
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) {
		err = fmt.Errorf("the zip entry is larger than it declares or corrupt (a zip bomb?): %w", err)
	}
	b.z.budget -= int64(n)
	if b.z.budget < 0 {
		return n, fmt.Errorf("actual uncompressed size %w", &LimitError{What: "bytes uncompressed", Limit: b.z.limits.MaxBytes, Flag: "max-bytes"})
	}
	return n, err
}

func (b *budgetReader) Close() error { return b.rc.Close() }
