package emulator

import "fmt"

// Errno is a kernel error number. Helpers return it negated in r0, as the
// kernel does, so programs that test `if (err == -EEXIST)` behave the same.
type Errno int

// The errors map operations and helpers produce (include/uapi/asm-generic/errno-base.h).
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	E2BIG        Errno = 7
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	EINVAL       Errno = 22
	ENOSPC       Errno = 28
	EOPNOTSUPP   Errno = 95
	EAFNOSUPPORT Errno = 97
	ENOTSUPP     Errno = 524 // kernel-internal, returned by some helpers
)

var errnoNames = map[Errno]string{
	EPERM: "EPERM", EACCES: "EACCES", EFAULT: "EFAULT", ENOENT: "ENOENT", E2BIG: "E2BIG", ENOMEM: "ENOMEM", EBUSY: "EBUSY", EEXIST: "EEXIST",
	EINVAL: "EINVAL", ENOSPC: "ENOSPC", EOPNOTSUPP: "EOPNOTSUPP", EAFNOSUPPORT: "EAFNOSUPPORT", ENOTSUPP: "ENOTSUPP",
}

func (e Errno) Error() string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}

// Ret is the value a helper leaves in r0 for this error: -errno.
func (e Errno) Ret() uint64 { return uint64(-int64(e)) }

// retOf turns a map operation's error into r0: 0 on success, -errno.
func retOf(err error) uint64 {
	if err == nil {
		return 0
	}
	if e, ok := err.(Errno); ok {
		return e.Ret()
	}
	return EINVAL.Ret()
}
