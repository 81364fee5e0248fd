package ir_test

import (
	"fmt"

	"github.com/nfpcc/nfpcc/ir"
)

// Parse a function in the IR's text form, check it and print it back: the
// text round-trips (Print(Parse(s)) == s), which is how the passes' tests
// are written.
func ExampleParse() {
	src := `func pass {
b0(v0:i64 !ptr(ctx,+0)):
  v1:i64 = const 2 @0
  ret v1 @1
}
`
	m, err := ir.Parse(src)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := ir.CheckModule(m); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(ir.Print(m))
	fmt.Println(ir.Print(m) == src)
	// Output:
	// func pass {
	// b0(v0:i64 !ptr(ctx,+0)):
	//   v1:i64 = const 2 @0
	//   ret v1 @1
	// }
	// true
}
