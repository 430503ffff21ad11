package engine

import (
	"testing"
	"unsafe"
)

// TestWantSize keeps a want at 176 bytes: a data/User row holds four of
// them in one array until it is planned (issue 14), 704 bytes, a size
// class of its own. A field most kinds leave empty belongs in VOSSWant or
// CUPIWant.
func TestWantSize(t *testing.T) {
	if n := unsafe.Sizeof(Want{}); n > 176 {
		t.Errorf("unsafe.Sizeof(Want{}) = %d, more than 176: move a field most kinds leave empty behind Want.VOSS or Want.CUPI", n)
	}
}
