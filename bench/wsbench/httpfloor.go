package main

// wsbench httpfloor: what a bare net/http server costs per request on this
// box, with no Plaza code: the HTTP half of the I/O floor under Plaza's
// server CPU (floor.go is the WebSocket half). The server runs in a
// process of its own (wsbench httpfloor-serve, started by this one), so
// the CPU it reports is the server's alone; this process is the clients:
// --clients keep-alive connections, one each, taking requests from one
// open-loop schedule with Poisson arrivals at --rate (the sum of many
// users' independent timers, as the loadtest's are, is close to Poisson).
// A request is a GET, or a POST with a small JSON body (--post-share of
// them); every answer is --size bytes of JSON. Latency is from a
// request's scheduled time to its answer's last byte, so a request that
// waited for a free client counts its wait.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/plazahq/plaza/internal/proccpu"
)

// httpFloorReport is what httpfloor prints, and writes with --json.
type httpFloorReport struct {
	Rate                   float64 `json:"rate"` // asked, requests a second
	Clients                int     `json:"clients"`
	PostShare              float64 `json:"postShare"`
	Size                   int     `json:"size"`
	Seconds                float64 `json:"seconds"`
	Requests               int64   `json:"requests"`
	Posts                  int64   `json:"posts"`
	Errors                 int64   `json:"errors"`
	RequestsPerSec         float64 `json:"requestsPerSec"`
	ServerCPUSeconds       float64 `json:"serverCpuSeconds"`
	ServerCores            float64 `json:"serverCores"`
	ServerMicrosPerRequest float64 `json:"serverCpuMicrosPerRequest"`
	ClientCores            float64 `json:"clientCores"`
	P50ms                  float64 `json:"p50ms"`
	P99ms                  float64 `json:"p99ms"`
}

func httpFloor(args []string) error {
	fs := flag.NewFlagSet("httpfloor", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address for the server to listen on")
	rate := fs.Float64("rate", 760, "requests a second, Poisson arrivals")
	clients := fs.Int("clients", 50, "keep-alive client connections")
	duration := fs.Duration("duration", 10*time.Second, "length of the run")
	postShare := fs.Float64("post-share", 0.2, "share of requests that are POSTs with a JSON body")
	size := fs.Int("size", 1200, "bytes of JSON in every answer")
	jsonOut := fs.String("json", "", "also write the report to this file, as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	case !(*rate > 0) || *rate > 1e6:
		return fmt.Errorf("--rate %g: above 0, at most 1e6", *rate)
	case *clients < 1 || *clients > 10000:
		return fmt.Errorf("--clients %d: 1 to 10000", *clients)
	case *duration <= 0:
		return fmt.Errorf("--duration %s: above 0", *duration)
	case !(*postShare >= 0 && *postShare <= 1):
		return fmt.Errorf("--post-share %g: 0 to 1", *postShare)
	case *size < minFloorAnswer || *size > 1<<20:
		return fmt.Errorf("--size %d: %d to %d", *size, minFloorAnswer, 1<<20)
	}

	srv, err := startFloorServer(*addr, *size)
	if err != nil {
		return err
	}
	defer srv.stop()

	type job struct {
		at   time.Time
		post bool
	}
	jobs := make(chan job, 4096)
	url := "http://" + srv.addr + "/api/items"
	var (
		wg                    sync.WaitGroup
		mu                    sync.Mutex
		hist                  = hdrhistogram.New(1, 60_000_000, 3) // µs
		reqs, posts, failures int64
		firstErr              error
	)
	// Every client opens its connection before the clock starts.
	ready := make(chan error, *clients)
	for i := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}, Timeout: 30 * time.Second}
			defer c.CloseIdleConnections()
			body := []byte(fmt.Sprintf(`{"body":"a message from client %d, about as long as a chat line"}`, i))
			token := fmt.Sprintf("Bearer floor-%040d", i) // a session token's length
			ready <- floorRequest(c, url, token, nil)
			h := hdrhistogram.New(1, 60_000_000, 3)
			var got, gotPosts, failed int64
			var err error
			for j := range jobs {
				var b []byte
				if j.post {
					b = body
				}
				if e := floorRequest(c, url, token, b); e != nil {
					failed++
					err = e
					continue
				}
				h.RecordValue(time.Since(j.at).Microseconds())
				got++
				if j.post {
					gotPosts++
				}
			}
			mu.Lock()
			hist.Merge(h)
			reqs, posts, failures = reqs+got, posts+gotPosts, failures+failed
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}()
	}
	for range *clients {
		if err := <-ready; err != nil {
			close(jobs)
			wg.Wait()
			return fmt.Errorf("warm-up request: %w", err)
		}
	}

	fmt.Printf("httpfloor: %g req/s asked (Poisson), %d keep-alive clients, %.0f%% POSTs, %d-byte answers; server pid %d\n",
		*rate, *clients, *postShare*100, *size, srv.cmd.Process.Pid)
	server0, err := srv.cpu()
	if err != nil {
		return err
	}
	client0 := proccpu.Now()
	start := time.Now()
	end := start.Add(*duration)
	for at := start; ; {
		at = at.Add(time.Duration(rand.ExpFloat64() / *rate * float64(time.Second)))
		if at.After(end) {
			break
		}
		time.Sleep(time.Until(at))
		jobs <- job{at: at, post: rand.Float64() < *postShare}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	server1, err := srv.cpu()
	if err != nil {
		return err
	}
	clientCPU := proccpu.Now() - client0

	serverCPU := (server1 - server0).Seconds()
	rep := httpFloorReport{
		Rate: *rate, Clients: *clients, PostShare: *postShare, Size: *size,
		Seconds: elapsed.Seconds(), Requests: reqs, Posts: posts, Errors: failures,
		RequestsPerSec:         float64(reqs) / elapsed.Seconds(),
		ServerCPUSeconds:       serverCPU,
		ServerCores:            serverCPU / elapsed.Seconds(),
		ServerMicrosPerRequest: serverCPU * 1e6 / float64(max(reqs+failures, 1)),
		ClientCores:            clientCPU.Seconds() / elapsed.Seconds(),
		P50ms:                  float64(hist.ValueAtQuantile(50)) / 1000,
		P99ms:                  float64(hist.ValueAtQuantile(99)) / 1000,
	}
	fmt.Printf("%d requests (%d POSTs, %d failed) in %s: %.1f req/s; server %.3f cores, %.1f cpu-µs per request; clients %.3f cores; latency p50 %.2f ms p99 %.2f ms\n",
		rep.Requests, rep.Posts, rep.Errors, elapsed.Round(time.Millisecond), rep.RequestsPerSec,
		rep.ServerCores, rep.ServerMicrosPerRequest, rep.ClientCores, rep.P50ms, rep.P99ms)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if failures > 0 {
		return fmt.Errorf("%d requests failed, the first: %w", failures, firstErr)
	}
	return nil
}

// floorRequest sends a GET, or a POST of body when body is set, and reads
// the whole answer, so that the connection is reused.
func floorRequest(c *http.Client, url, token string, body []byte) error {
	method, want := http.MethodGet, http.StatusOK
	var r io.Reader
	if body != nil {
		method, want, r = http.MethodPost, http.StatusCreated, bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s: %s", method, res.Status)
	}
	return nil
}

// floorServer is the httpfloor-serve child process, seen from its parent.
type floorServer struct {
	cmd  *exec.Cmd
	addr string
	in   io.WriteCloser
	out  *bufio.Scanner
}

func startFloorServer(addr string, size int) (*floorServer, error) {
	cmd := exec.Command(os.Args[0], "httpfloor-serve", "--addr", addr, "--size", strconv.Itoa(size))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &floorServer{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	line, err := s.line()
	if err == nil && !strings.HasPrefix(line, "listening ") {
		err = fmt.Errorf("server said %q", line)
	}
	if err != nil {
		s.stop()
		return nil, err
	}
	s.addr = strings.TrimPrefix(line, "listening ")
	return s, nil
}

func (s *floorServer) line() (string, error) {
	if !s.out.Scan() {
		if err := s.out.Err(); err != nil {
			return "", err
		}
		return "", errors.New("httpfloor server exited")
	}
	return s.out.Text(), nil
}

// cpu is the server's own CPU time so far, user and system: the server
// reads its getrusage when asked (/proc/PID/stat counts in 10 ms ticks,
// coarse for a short run at a low rate).
func (s *floorServer) cpu() (time.Duration, error) {
	if _, err := fmt.Fprintln(s.in, "cpu"); err != nil {
		return 0, err
	}
	line, err := s.line()
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(line, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("server's CPU %q: %w", line, err)
	}
	return time.Duration(ns), nil
}

func (s *floorServer) stop() {
	s.in.Close() // the server exits at the end of its input
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// httpFloorServe is the server: a bare net/http server whose handlers do
// what any JSON API's must and nothing more: read the request's body,
// answer with JSON of a given size and its Content-Type. It prints its
// address; then, for each "cpu" line on stdin, its CPU time in
// nanoseconds; it exits when stdin closes.
func httpFloorServe(args []string) error {
	fs := flag.NewFlagSet("httpfloor-serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	size := fs.Int("size", 1200, "bytes of JSON in every answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	answer, err := floorAnswer(*size)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	length := strconv.Itoa(len(answer))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/items", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", length)
		w.Write(answer)
	})
	mux.HandleFunc("POST /api/items", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10)); err != nil {
			http.Error(w, `{"error":"bad_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", length)
		w.WriteHeader(http.StatusCreated)
		w.Write(answer)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Println("listening", ln.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "cpu" {
			fmt.Println(int64(proccpu.Now()))
		}
	}
	return nil
}

// minFloorAnswer is the length of the smallest answer floorAnswer makes.
const minFloorAnswer = len(`{"items":[],"more":""}`)

// floorAnswer is size bytes of JSON shaped like a page of messages: items
// while they fit, then a string that pads it to size.
func floorAnswer(size int) ([]byte, error) {
	if size < minFloorAnswer {
		return nil, fmt.Errorf("answer size %d: at least %d", size, minFloorAnswer)
	}
	b := []byte(`{"items":[`)
	for i := 1; ; i++ {
		item := fmt.Sprintf(`{"id":%d,"author":"user_%d","body":"message %d of the page","createdAt":"2026-12-03T08:49:00Z"}`, i, i, i)
		if i > 1 {
			item = "," + item
		}
		if len(b)+len(item)+len(`],"more":""}`) > size {
			break
		}
		b = append(b, item...)
	}
	b = append(b, `],"more":"`...)
	b = append(b, bytes.Repeat([]byte("x"), size-len(b)-len(`"}`))...)
	return append(b, `"}`...), nil
}
