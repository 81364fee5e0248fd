package emulator

import "fmt"

// Hook is where a program is attached; it decides the context layout and
// how the return value is read.
type Hook uint8

const (
	// HookNone is a plain function over memory (the conformance tests).
	HookNone Hook = iota
	// HookXDP is an XDP program: ctx is struct xdp_md, r0 an XDP action.
	HookXDP
	// HookTC is a tc classifier/action: ctx is struct __sk_buff, r0 a TC_ACT_* code.
	HookTC
)

func (h Hook) String() string {
	switch h {
	case HookNone:
		return "none"
	case HookXDP:
		return "xdp"
	case HookTC:
		return "tc"
	}
	return fmt.Sprintf("Hook(%d)", uint8(h))
}

// XDP actions (enum xdp_action, include/uapi/linux/bpf.h).
const (
	XDPAborted  = 0
	XDPDrop     = 1
	XDPPass     = 2
	XDPTx       = 3
	XDPRedirect = 4
)

var xdpActionNames = []string{"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"}

// tc actions (TC_ACT_*, include/uapi/linux/pkt_cls.h), indexed by value+1 so
// that TC_ACT_UNSPEC (-1) is entry 0.
var tcActionNames = []string{
	"TC_ACT_UNSPEC", "TC_ACT_OK", "TC_ACT_RECLASSIFY", "TC_ACT_SHOT", "TC_ACT_PIPE",
	"TC_ACT_STOLEN", "TC_ACT_QUEUED", "TC_ACT_REPEAT", "TC_ACT_REDIRECT", "TC_ACT_TRAP",
}

// TC action values.
const (
	TCActUnspec   = -1
	TCActOK       = 0
	TCActShot     = 2
	TCActRedirect = 7
)

// ActionName names the action a return value means for the hook, as the
// kernel reads it: XDP looks at the low 32 bits (an unknown value is
// treated as XDP_ABORTED by the driver, named "XDP_UNKNOWN(n)" here); tc
// sign-extends the low 32 bits (unknown codes behave as TC_ACT_UNSPEC
// in the kernel, named "TC_ACT_UNKNOWN(n)" here). HookNone has no actions
// and gets "".
func ActionName(h Hook, ret uint64) string {
	switch h {
	case HookXDP:
		v := uint32(ret)
		if int(v) < len(xdpActionNames) {
			return xdpActionNames[v]
		}
		return fmt.Sprintf("XDP_UNKNOWN(%d)", v)
	case HookTC:
		v := int64(int32(uint32(ret)))
		if v >= -1 && v+1 < int64(len(tcActionNames)) {
			return tcActionNames[v+1]
		}
		return fmt.Sprintf("TC_ACT_UNKNOWN(%d)", v)
	}
	return ""
}
