package store

import "encoding/hex"

// hexInto decodes src, which must be exactly len(dst) bytes in hex, into
// dst.
func hexInto(dst, src []byte) bool {
	if hex.DecodedLen(len(src)) != len(dst) {
		return false
	}
	_, err := hex.Decode(dst, src)
	return err == nil
}
