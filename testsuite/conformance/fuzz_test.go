package conformance

import "testing"

// FuzzDataFile feeds arbitrary test files through parsing, assembling and
// running on the interpreter: bad input gets an outcome, never a panic.
func FuzzDataFile(f *testing.F) {
	f.Add("-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n")
	f.Add("-- asm\nlddw %r0, 0x1122334455667788\nlock fetch add [%r10-8], %r0\nja32 L\nL:\nexit\n-- mem\naa bb\n-- result\n0x0\n")
	f.Add("-- raw\n0x0000000000000095\n-- error\n")
	f.Add("-- asm\ncall local f\nexit\nf:\nldxw %r0, [%r1+0x10]\nexit\n-- mem\n0x0000: 0102 0304\n-- result\n1\n")
	f.Fuzz(func(t *testing.T, text string) {
		tf, err := Parse("fuzz.data", text)
		if err != nil {
			return
		}
		o := RunTest(Interp{}, tf)
		if o.Kind == "" {
			t.Fatalf("outcome without a kind: %+v", o)
		}
	})
}
