// Command dbhang measures what a MariaDB that stops answering costs Plaza:
// how long a request that needs the database takes to fail, and how long
// /api/health takes to answer, while every byte to and from the database
// is held back (netfault's black hole: connections stay open, nothing
// answers, as with a frozen or partitioned server).
//
// It runs real `plaza serve` binaries (built from two revisions, to compare
// them side by side), each on a scratch database of its own reached through
// the proxy, in alternating rounds:
//
//	go run ./bench/dbhang --bin before=/tmp/plaza-main --bin after=/tmp/plaza-head --rounds 3
//
// scripts/db-blackhole.sh builds the two binaries and runs it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/plazahq/plaza/bench/internal/benchkit"
	"github.com/plazahq/plaza/internal/netfault"
	"github.com/plazahq/plaza/internal/sqldb"
)

// healthGap is the pause between health calls: a monitor polling.
const healthGap = 3 * time.Second

type binFlag []string

func (b *binFlag) String() string     { return strings.Join(*b, ",") }
func (b *binFlag) Set(v string) error { *b = append(*b, v); return nil }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dbhang:", err)
		os.Exit(1)
	}
}

// sample is one timed answer: its status and how long it took (a client
// that gave up counts as status 0 at the client timeout).
type sample struct {
	Status int           `json:"status"`
	Took   time.Duration `json:"tookNs"`
}

type round struct {
	Variant  string   `json:"variant"`
	Requests []sample `json:"requests"`
	Health   []sample `json:"health"`
}

func run() error {
	def := os.Getenv("PLAZA_TEST_MYSQL_DSN")
	if def == "" {
		def = "mysql://root@127.0.0.1:3306/test"
	}
	server := flag.String("mysql", def, "MySQL/MariaDB server URL (a scratch database per run is created and dropped on it)")
	var bins binFlag
	flag.Var(&bins, "bin", "name=path of a plaza binary to measure (repeat to compare)")
	rounds := flag.Int("rounds", 3, "rounds of each binary, alternated")
	port := flag.Int("port", 18300, "port the server under test listens on (127.0.0.1)")
	requests := flag.Int("requests", 4, "concurrent requests sent while the database hangs")
	healthN := flag.Int("health", 3, "health calls while the database hangs, 3 s apart (a monitor polling)")
	giveUp := flag.Duration("client-timeout", 45*time.Second, "how long the client waits for one answer")
	jsonOut := flag.String("json", "", "also write every sample as JSON to this file")
	flag.Parse()
	if len(bins) == 0 {
		return errors.New("name at least one binary with --bin name=path")
	}

	var all []round
	for r := 1; r <= *rounds; r++ {
		for _, b := range bins {
			name, path, ok := strings.Cut(b, "=")
			if !ok {
				return fmt.Errorf("--bin %q: use name=path", b)
			}
			res, err := measure(*server, path, *port, *requests, *healthN, *giveUp)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", name, r, err)
			}
			res.Variant = name
			all = append(all, res)
			fmt.Printf("round %d %-8s requests %s | health %s\n", r, name, describe(res.Requests), describe(res.Health))
		}
	}
	fmt.Println()
	fmt.Println("| binary | request fails after (median, max) | request statuses | health answers after (median, max) | health statuses |")
	fmt.Println("|---|---:|---|---:|---|")
	for _, b := range bins {
		name, _, _ := strings.Cut(b, "=")
		var req, hl []sample
		for _, r := range all {
			if r.Variant == name {
				req = append(req, r.Requests...)
				hl = append(hl, r.Health...)
			}
		}
		fmt.Printf("| %s | %s, %s | %s | %s, %s | %s |\n", name, secs(median(req)), secs(maxOf(req)), statuses(req),
			secs(median(hl)), secs(maxOf(hl)), statuses(hl))
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(all, "", "  ")
		return os.WriteFile(*jsonOut, b, 0o644)
	}
	return nil
}

// measure starts bin on a fresh database behind a proxy, black-holes the
// proxy, and times requests and health calls.
func measure(server, bin string, port, nreq, nhealth int, giveUp time.Duration) (round, error) {
	ctx := context.Background()
	scratch, err := benchkit.NewScratch(ctx, server, sqldb.Config{PoolSize: 2})
	if err != nil {
		return round{}, err
	}
	defer scratch.Close()
	u, err := url.Parse(scratch.URL)
	if err != nil {
		return round{}, err
	}
	proxy, err := netfault.Listen(u.Host)
	if err != nil {
		return round{}, err
	}
	defer proxy.Cut()
	u.Host = proxy.Addr()
	dir, err := os.MkdirTemp("", "plaza-dbhang-")
	if err != nil {
		return round{}, err
	}
	defer os.RemoveAll(dir)

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "PLAZA_ADDR="+strings.TrimPrefix(base, "http://"), "PLAZA_DATA_DIR="+dir,
		"DATABASE_URL="+u.String(), "PLAZA_CACHE=off", "PLAZA_RATE_API=off", "PLAZA_LOG_LEVEL=error", "PLAZA_SHUTDOWN_TIMEOUT=2s")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return round{}, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	client := &http.Client{Timeout: giveUp}
	if err := waitOK(client, base, 30*time.Second); err != nil {
		return round{}, err
	}
	for range 20 { // warm: the pool holds open connections, as in production
		if s := get(client, base+"/api/community/channels"); s.Status != 200 {
			return round{}, fmt.Errorf("warm-up request answered %d", s.Status)
		}
	}

	// A monitor polls health every few seconds, so what health caches
	// (the job-queue depth, 2 s) is stale when the database stops
	// answering, as it would be then.
	time.Sleep(healthGap)
	proxy.Blackhole()
	var res round
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range nreq {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := get(client, base+"/api/community/channels")
			mu.Lock()
			res.Requests = append(res.Requests, s)
			mu.Unlock()
		}()
	}
	time.Sleep(200 * time.Millisecond) // the requests are in flight
	for i := range nhealth {
		if i > 0 {
			time.Sleep(healthGap)
		}
		res.Health = append(res.Health, get(client, base+"/api/health"))
	}
	wg.Wait()
	proxy.Release()
	if err := waitOK(client, base, 60*time.Second); err != nil {
		return res, fmt.Errorf("after the database answered again: %w", err)
	}
	return res, nil
}

func get(c *http.Client, url string) sample {
	start := time.Now()
	res, err := c.Get(url)
	if err != nil {
		return sample{Took: time.Since(start)}
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return sample{Status: res.StatusCode, Took: time.Since(start)}
}

func waitOK(c *http.Client, base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		res, err := c.Get(base + "/api/health")
		if err == nil {
			var h struct{ Status string }
			json.NewDecoder(res.Body).Decode(&h)
			res.Body.Close()
			if h.Status == "ok" {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("health not ok after %v (last: %v)", limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func durations(ss []sample) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = s.Took
	}
	slices.Sort(out)
	return out
}

func median(ss []sample) time.Duration {
	d := durations(ss)
	if len(d) == 0 {
		return 0
	}
	return d[len(d)/2]
}

func maxOf(ss []sample) time.Duration {
	d := durations(ss)
	if len(d) == 0 {
		return 0
	}
	return d[len(d)-1]
}

func statuses(ss []sample) string {
	n := map[int]int{}
	for _, s := range ss {
		n[s.Status]++
	}
	var keys []int
	for k := range n {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		label := fmt.Sprint(k)
		if k == 0 {
			label = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", label, n[k]))
	}
	return strings.Join(parts, ", ")
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func describe(ss []sample) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, fmt.Sprintf("%d in %s", s.Status, secs(s.Took)))
	}
	return strings.Join(parts, ", ")
}
