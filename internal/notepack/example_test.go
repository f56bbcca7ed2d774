package notepack_test

import (
	"fmt"

	"github.com/sockio/sockio/internal/notepack"
)

// A Socket.IO packet's JSON with one binary attachment, as a Node.js
// Redis adapter would encode and decode it.
func Example() {
	b, _ := notepack.AppendJSON(nil, []byte(`["file",{"_placeholder":true,"num":0},1.5]`), [][]byte{{0xca, 0xfe}})
	fmt.Printf("%x\n", b)

	v, _ := notepack.Unmarshal(b)
	js, atts, _ := notepack.AppendJSONValue(nil, v, nil)
	fmt.Printf("%s %x\n", js, atts)
	// Output:
	// 93a466696c65c402cafecb3ff8000000000000
	// ["file",{"_placeholder":true,"num":0},1.5] [cafe]
}
