package ebpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket/pcapgo"
	"github.com/nfpcc/nfpcc/compiler/loader"
	"github.com/nfpcc/nfpcc/emulator"
	"github.com/nfpcc/nfpcc/testsuite"
)

// Realistic per-packet benchmarks: the router and the load balancer of
// testdata/progs with map state that sends their frames down the main path
// (route found, TTL decremented, MACs rewritten, XDP_TX; backend found,
// IPv4-in-IPv4 encapsulation, XDP_TX). Short programs are dominated by what
// a run costs besides its instructions (resetting the machine, copying the
// packet in and out, the result), which is what these measure.
//
//	go test -run XXX -bench 'Router|LoadBalancer' -count 6 ./emulator/ebpf

// realBench is a machine prepared for one program and the frames it runs on.
type realBench struct {
	m      *Machine
	prog   int
	frames [][]byte
}

// newRealBench loads testdata/progs/<file>, applies state to its maps and
// checks that every frame gets the action want, so that the benchmark
// measures the path it claims to.
func newRealBench(b *testing.B, file string, state *emulator.State, frames [][]byte, want string) *realBench {
	b.Helper()
	obj, err := loader.Load(filepath.Join(testsuite.ProjectRoot(), "testdata", "progs", file))
	if err != nil {
		b.Skipf("%v", err)
	}
	if len(obj.Programs) != 1 {
		b.Fatalf("%s: %d programs, want 1", file, len(obj.Programs))
	}
	m, err := FromObject(obj, 0, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := state.Apply(m.Env().Maps); err != nil {
		b.Fatal(err)
	}
	if len(frames) == 0 {
		b.Fatalf("%s: no frames", file)
	}
	for i, f := range frames {
		res, err := m.Run(0, Input{Packet: f})
		if err != nil {
			b.Fatalf("%s frame %d: %v", file, i, err)
		}
		if res.Action != want {
			b.Fatalf("%s frame %d: %s after %d instructions, want %s (the benchmark would not measure the main path)", file, i, res.Action, res.Instructions, want)
		}
	}
	return &realBench{m: m, frames: frames}
}

// run benchmarks Machine.Run over the frames in turn and reports
// instructions per second and nanoseconds per packet.
func (rb *realBench) run(b *testing.B) {
	var total uint64
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		res, err := rb.m.Run(rb.prog, Input{Packet: rb.frames[n%len(rb.frames)]})
		if err != nil {
			b.Fatal(err)
		}
		total += res.Instructions
	}
	reportPerPacket(b, total)
}

// runInto is run with Machine.RunInto and one result reused from packet
// to packet: the interpreter's own per-packet cost, without the result's
// allocations.
func (rb *realBench) runInto(b *testing.B) {
	var total uint64
	var res emulator.Result
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		if err := rb.m.RunInto(rb.prog, Input{Packet: rb.frames[n%len(rb.frames)]}, &res); err != nil {
			b.Fatal(err)
		}
		total += res.Instructions
	}
	reportPerPacket(b, total)
}

func reportPerPacket(b *testing.B, total uint64) {
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "insns/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
	b.ReportMetric(float64(total)/float64(b.N), "insns/packet")
}

// BenchmarkRouter and BenchmarkRouterRunInto run xdp_router.o with examples/router/routes.json on
// the frames of examples/router/packets.pcap that it routes.
func BenchmarkRouter(b *testing.B)        { routerBench(b).run(b) }
func BenchmarkRouterRunInto(b *testing.B) { routerBench(b).runInto(b) }

func routerBench(b *testing.B) *realBench {
	root := testsuite.ProjectRoot()
	data, err := os.ReadFile(filepath.Join(root, "examples", "router", "routes.json"))
	if err != nil {
		b.Skipf("%v", err)
	}
	state, err := emulator.ParseState(data)
	if err != nil {
		b.Fatal(err)
	}
	all := readPcap(b, filepath.Join(root, "examples", "router", "packets.pcap"))
	// The frames to 10.0.1.0/24 (the route routes.json gives) with a TTL
	// above 1: the ones the router forwards.
	var frames [][]byte
	for _, f := range all {
		if len(f) >= 34 && binary.BigEndian.Uint16(f[12:]) == 0x0800 && f[14+8] > 1 &&
			bytes.Equal(f[14+16:14+19], []byte{10, 0, 1}) {
			frames = append(frames, f)
		}
	}
	return newRealBench(b, "xdp_router.o", state, frames, "XDP_TX")
}

// BenchmarkLoadBalancer and BenchmarkLoadBalancerRunInto run xdp_lb.o with four backends (the kernel
// oracle's three, and a fourth in the slot it leaves empty, so that every
// flow finds one) on TCP and UDP flows to its VIP, 10.0.0.254.
func BenchmarkLoadBalancer(b *testing.B)        { lbBench(b).run(b) }
func BenchmarkLoadBalancerRunInto(b *testing.B) { lbBench(b).runInto(b) }

func lbBench(b *testing.B) *realBench {
	// struct backend: ip, mac[6], pad.
	backend := func(last byte) string { return fmt.Sprintf("c0a864%02x0200000064%02x0000", last, last) }
	state := &emulator.State{Maps: map[string][]emulator.StateEntry{
		"backends": {
			{Key: "00000000", Value: backend(10)},
			{Key: "01000000", Value: backend(11)},
			{Key: "02000000", Value: backend(12)},
			{Key: "03000000", Value: backend(13)},
		},
	}}
	var frames [][]byte
	for i := 0; i < 8; i++ {
		proto := byte(17) // UDP
		if i%2 == 1 {
			proto = 6 // TCP
		}
		frames = append(frames, l4Frame(proto, [4]byte{10, 0, 0, byte(2 + i)}, [4]byte{10, 0, 0, 254}, uint16(40000+i*7), 80))
	}
	return newRealBench(b, "xdp_lb.o", state, frames, "XDP_TX")
}

// l4Frame builds an Ethernet/IPv4 frame with a TCP or UDP header and a
// little payload.
func l4Frame(proto byte, src, dst [4]byte, sport, dport uint16) []byte {
	f := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00}
	l4 := 8
	if proto == 6 {
		l4 = 20
	}
	payload := []byte("benchmark")
	ip := []byte{0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0}
	ip = append(ip, src[:]...)
	ip = append(ip, dst[:]...)
	binary.BigEndian.PutUint16(ip[2:], uint16(20+l4+len(payload)))
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	sum = (sum & 0xffff) + sum>>16
	sum = (sum & 0xffff) + sum>>16
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	f = append(f, ip...)
	hdr := make([]byte, l4)
	binary.BigEndian.PutUint16(hdr[0:], sport)
	binary.BigEndian.PutUint16(hdr[2:], dport)
	if proto == 6 {
		hdr[12] = 5 << 4
		hdr[13] = 0x02 // SYN
		binary.BigEndian.PutUint16(hdr[14:], 0xffff)
	} else {
		binary.BigEndian.PutUint16(hdr[4:], uint16(l4+len(payload)))
	}
	f = append(f, hdr...)
	return append(f, payload...)
}

// readPcap returns the frames of a pcap file.
func readPcap(b *testing.B, path string) [][]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("%v", err)
	}
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	var frames [][]byte
	for {
		f, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			b.Fatalf("%s: %v", path, err)
		}
		frames = append(frames, f)
	}
}

// BenchmarkDropRunInto is the fixed cost of a run: xdp_drop.o executes two
// instructions, so nearly all of its time is resetting the machine and
// filling the result.
func BenchmarkDropRunInto(b *testing.B) {
	newRealBench(b, "xdp_drop.o", &emulator.State{}, benchFrames, "XDP_DROP").runInto(b)
}
