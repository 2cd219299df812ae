package main

// wsbench floor: what the kernel charges for a delivery on this box, with
// no Plaza code. The writer (this process) holds N loopback TCP
// connections; a second process (wsbench floor-read, started by this one)
// reads them. Each "message" is one small WebSocket text frame, the same
// bytes written to every connection, one write(2) per connection (or
// --batch frames per write, as a busy Plaza writer joins a connection's
// queued frames); the payload carries the send time, so the reader
// reports delivery latency. At a rate, the writer's CPU per delivery is
// the floor under Plaza's server CPU per delivery at that shape; rate 0
// writes back to back and reports the most deliveries a second the box
// sustains.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/plazahq/plaza/bench/internal/benchkit"
	"github.com/plazahq/plaza/internal/proccpu"
)

func floor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	conns := fs.Int("conns", 10000, "connections")
	rates := fs.String("rates", "10,0", "messages per second to every connection, comma-separated; 0: back to back")
	duration := fs.Duration("duration", 10*time.Second, "length of each rate")
	size := fs.Int("size", 200, "frame payload bytes")
	writers := fs.Int("writers", 2, "goroutines writing, each a share of the connections")
	batch := fs.Int("batch", 1, "frames per write (a connection's queued frames joined into one write)")
	nrooms := fs.Int("rooms", 1, "rooms: connection i is in room i mod rooms, and messages go to the rooms in turn")
	fs.Parse(args)
	if *size < 16 || *size > 65535 {
		return fmt.Errorf("--size %d: 16 to 65535", *size)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	reader := exec.Command(os.Args[0], "floor-read", "--addr", ln.Addr().String(), "--conns", strconv.Itoa(*conns))
	reader.Stderr = os.Stderr
	toReader, _ := reader.StdinPipe()
	fromReader, _ := reader.StdoutPipe()
	if err := reader.Start(); err != nil {
		return err
	}
	defer reader.Process.Kill()
	lines := bufio.NewScanner(fromReader)
	cs := make([]*net.TCPConn, 0, *conns)
	for len(cs) < *conns {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		cs = append(cs, c.(*net.TCPConn))
	}
	if !lines.Scan() || lines.Text() != "ready" {
		return fmt.Errorf("reader did not connect: %q", lines.Text())
	}
	fmt.Printf("floor: %d loopback connections in %d room(s), %d-byte payload, %d writers, %d frame(s) per write; reader pid %d\n",
		len(cs), *nrooms, *size, *writers, *batch, reader.Process.Pid)

	frame := make([]byte, 4+*size) // text frame, 16-bit length (a 200-byte event's shape)
	frame[0], frame[1] = 0x81, 126
	binary.BigEndian.PutUint16(frame[2:], uint16(*size))
	for i := 12; i < len(frame); i++ {
		frame[i] = 'x'
	}
	buf := make([]byte, 0, len(frame)**batch)
	for range *batch {
		buf = append(buf, frame...)
	}
	rooms := make([][][]*net.TCPConn, *nrooms) // room -> writer -> its connections
	for r := range rooms {
		rooms[r] = make([][]*net.TCPConn, *writers)
	}
	for i, c := range cs {
		r := i % *nrooms
		w := (i / *nrooms) % *writers
		rooms[r][w] = append(rooms[r][w], c)
	}
	sent := 0
	for _, rs := range strings.Split(*rates, ",") {
		rate, err := strconv.Atoi(strings.TrimSpace(rs))
		if err != nil || rate < 0 {
			return fmt.Errorf("bad rate %q", rs)
		}
		var writes atomic.Int64
		var failed error
		var failMu sync.Mutex
		message := func() {
			b := append([]byte(nil), buf...) // each message's own stamp
			stamp := time.Now().UnixNano()
			for k := range *batch {
				binary.LittleEndian.PutUint64(b[k*len(frame)+4:], uint64(stamp))
			}
			shares := rooms[sent%len(rooms)]
			sent++
			var wg sync.WaitGroup
			for _, share := range shares {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, c := range share {
						if _, err := c.Write(b); err != nil {
							failMu.Lock()
							failed = err
							failMu.Unlock()
							return
						}
					}
					writes.Add(int64(len(share)))
				}()
			}
			wg.Wait()
		}
		ru0, reader0 := proccpu.Now(), benchkit.CPUTicks(reader.Process.Pid)
		start := time.Now()
		end := start.Add(*duration)
		if rate == 0 {
			for time.Now().Before(end) && failed == nil {
				message()
			}
		} else {
			t := time.NewTicker(time.Second / time.Duration(rate))
			for now := range t.C {
				if now.After(end) || failed != nil {
					break
				}
				message()
			}
			t.Stop()
		}
		elapsed := time.Since(start)
		cpu := proccpu.Now() - ru0
		time.Sleep(time.Second) // the last frames land
		readerCPU := float64(benchkit.CPUTicks(reader.Process.Pid)-reader0) / 100
		fmt.Fprintln(toReader, "report")
		if !lines.Scan() {
			return fmt.Errorf("reader gone")
		}
		var rep floorReport
		if err := json.Unmarshal(lines.Bytes(), &rep); err != nil {
			return err
		}
		if failed != nil {
			return failed
		}
		w := writes.Load()
		deliveries := w * int64(*batch)
		label := strconv.Itoa(rate) + " msg/s"
		if rate == 0 {
			label = "back to back"
		}
		fmt.Printf("%s: %d writes, %d deliveries (reader got %d) in %s: %.0f deliveries/s; writer %.2f cores, %.2f cpu-µs per write, %.2f per delivery; reader %.2f cores, %.2f µs per delivery; latency p50 %.1f ms p99 %.1f ms\n",
			label, w, deliveries, rep.Frames, elapsed.Round(time.Millisecond), float64(deliveries)/elapsed.Seconds(),
			cpu.Seconds()/elapsed.Seconds(), float64(cpu.Microseconds())/float64(max(w, 1)), float64(cpu.Microseconds())/float64(max(deliveries, 1)),
			readerCPU/elapsed.Seconds(), readerCPU*1e6/float64(max(rep.Frames, 1)), rep.P50ms, rep.P99ms)
	}
	fmt.Fprintln(toReader, "quit")
	return reader.Wait()
}

type floorReport struct {
	Frames int64   `json:"frames"`
	P50ms  float64 `json:"p50ms"`
	P99ms  float64 `json:"p99ms"`
}

// floorRead is the reading side: N connections, a goroutine each reading
// into its own buffer and parsing frames (as a WebSocket client's read
// loop does), latency from the stamp in each payload. "report" on stdin
// prints what it got since the last report.
func floorRead(args []string) error {
	fs := flag.NewFlagSet("floor-read", flag.ExitOnError)
	addr := fs.String("addr", "", "writer's address")
	conns := fs.Int("conns", 10000, "connections")
	fs.Parse(args)
	type shard struct {
		mu   sync.Mutex
		hist *hdrhistogram.Histogram
		n    int64
	}
	shards := make([]shard, 64)
	for i := range shards {
		shards[i].hist = hdrhistogram.New(1, 60_000_000, 3)
	}
	for i := range *conns {
		c, err := net.Dial("tcp", *addr)
		if err != nil {
			return err
		}
		sh := &shards[i%len(shards)]
		go func() {
			b := make([]byte, 4096)
			have := 0
			for {
				n, err := c.Read(b[have:])
				if err != nil {
					return
				}
				have += n
				now := time.Now().UnixNano()
				off := 0
				for have-off >= 4 {
					l := 4 + int(binary.BigEndian.Uint16(b[off+2:]))
					if have-off < l {
						break
					}
					stamp := int64(binary.LittleEndian.Uint64(b[off+4:]))
					sh.mu.Lock()
					sh.hist.RecordValue((now - stamp) / 1000)
					sh.n++
					sh.mu.Unlock()
					off += l
				}
				have = copy(b, b[off:have])
			}
		}()
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() != "report" {
			return nil
		}
		all := hdrhistogram.New(1, 60_000_000, 3)
		var rep floorReport
		for i := range shards {
			sh := &shards[i]
			sh.mu.Lock()
			all.Merge(sh.hist)
			rep.Frames += sh.n
			sh.hist.Reset()
			sh.n = 0
			sh.mu.Unlock()
		}
		rep.P50ms, rep.P99ms = float64(all.ValueAtQuantile(50))/1000, float64(all.ValueAtQuantile(99))/1000
		b, _ := json.Marshal(rep)
		fmt.Println(string(b))
	}
	return nil
}
