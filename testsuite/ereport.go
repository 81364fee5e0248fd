package testsuite

import (
	"bufio"
	"compress/bzip2"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// EreportPath is one path of the paper's estimator output
// (nfp-jit/predictions/<p>.{k,i}.ereport, bzip2): the path through the
// JIT's code in the estimator's `->N`/`--N` notation, its model cycles
// (incl. the 224 firmware cycles) and DRAM cycles, and an example packet
// (bytes the path does not constrain read as 0).
type EreportPath struct {
	Path   string
	Cycles int64
	DRAM   float64
	Packet []byte
}

var ereportRow = regexp.MustCompile(`^\|0x([0-9a-f]+)\|(.*)\|$`)

// ReadEreport reads the paths of one ereport file.
func ReadEreport(file string) ([]EreportPath, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(bzip2.NewReader(f))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var out []EreportPath
	var cur *EreportPath
	size := -1
	flush := func() {
		if cur != nil && size >= 0 {
			if len(cur.Packet) > size {
				cur.Packet = cur.Packet[:size]
			} else {
				cur.Packet = append(cur.Packet, make([]byte, size-len(cur.Packet))...)
			}
			out = append(out, *cur)
		}
		cur, size = nil, -1
	}
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "#### ->"):
			flush()
			cur = &EreportPath{Path: strings.TrimPrefix(l, "#### "), Cycles: -1}
		case strings.HasPrefix(l, "####"):
			flush()
		case cur == nil:
		case strings.HasPrefix(l, "cycles: "):
			cur.Cycles, err = strconv.ParseInt(strings.TrimPrefix(l, "cycles: "), 10, 64)
		case strings.HasPrefix(l, "DRAM cycles: "):
			cur.DRAM, err = strconv.ParseFloat(strings.TrimPrefix(l, "DRAM cycles: "), 64)
		case strings.HasPrefix(l, "min packet size: "):
			size, err = strconv.Atoi(strings.TrimPrefix(l, "min packet size: "))
		default:
			if m := ereportRow.FindStringSubmatch(l); m != nil {
				off, _ := strconv.ParseUint(m[1], 16, 32)
				for i, c := range strings.Split(m[2], "|") {
					c = strings.TrimSpace(c)
					for int(off)+i >= len(cur.Packet) {
						cur.Packet = append(cur.Packet, 0)
					}
					if c != "--" {
						v, perr := strconv.ParseUint(c, 16, 8)
						if perr != nil {
							return nil, fmt.Errorf("%s: bad byte %q", file, c)
						}
						cur.Packet[int(off)+i] = byte(v)
					}
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return out, nil
}
