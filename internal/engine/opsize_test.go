package engine

import (
	"testing"
	"unsafe"
)

// TestOpSize keeps an operation in the 320-byte size class: a plan holds
// about four per row all run (issue 14), so a field that pushes Op past
// 320 bytes costs 32 or more bytes on each of them.
func TestOpSize(t *testing.T) {
	if n := unsafe.Sizeof(Op{}); n > 320 {
		t.Errorf("unsafe.Sizeof(Op{}) = %d, more than 320: move a field most kinds leave empty out of Op", n)
	}
}
