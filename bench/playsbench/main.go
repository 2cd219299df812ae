// Command playsbench drives plays at a running Plaza and reports how many
// it accepted per second against how many database writes the play
// counter made:
//
//	playsbench --target http://127.0.0.1:18750 --login ops:PASSWORD \
//	    [--rate 10000] [--duration 20s] [--mixes 200] [--listeners 200000] [--conns 64]
//
// The account named by --login (a creator or above) uploads one audio file
// and publishes --mixes mixes. Then anonymous listeners, each a distinct
// client IP sent in X-Forwarded-For (start the server with
// PLAZA_TRUSTED_PROXIES=127.0.0.1), play random mixes at --rate for
// --duration. The figures come from the server's /metrics before and after
// (plus one flush interval after the load, so the last plays are written):
// plays accepted and counted, flush transactions and mix rows they wrote,
// and every statement run on the writer pool.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "playsbench:", err)
		os.Exit(1)
	}
}

type config struct {
	target    string
	login     string
	rate      int
	duration  time.Duration
	mixes     int
	listeners int
	conns     int
	pipeline  int
	settle    time.Duration
}

func run() error {
	var c config
	flag.StringVar(&c.target, "target", "http://127.0.0.1:18750", "Plaza base URL")
	flag.StringVar(&c.login, "login", "", "username:password of a creator or admin")
	flag.IntVar(&c.rate, "rate", 10000, "plays per second to offer")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "how long to play")
	flag.IntVar(&c.mixes, "mixes", 90, "mixes to play (published if the account has fewer; the api rate limit allows 100 writes a minute)")
	flag.IntVar(&c.listeners, "listeners", 200000, "distinct anonymous listeners (client IPs)")
	flag.IntVar(&c.conns, "conns", 32, "connections")
	flag.IntVar(&c.pipeline, "pipeline", 8, "requests a connection may send before reading their answers")
	flag.DurationVar(&c.settle, "settle", 6*time.Second, "wait after the load for the last flush")
	flag.Parse()
	user, pass, ok := strings.Cut(c.login, ":")
	if !ok {
		return errors.New("--login username:password is required")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: c.conns, MaxIdleConnsPerHost: c.conns, MaxConnsPerHost: c.conns}, Timeout: 10 * time.Second}

	token, uid, err := login(client, c.target, user, pass)
	if err != nil {
		return err
	}
	ids, err := publish(client, c.target, token, uid, c.mixes)
	if err != nil {
		return err
	}
	before, err := scrape(client, c.target)
	if err != nil {
		return err
	}
	sent, failed, elapsed, err := load(c, ids)
	if err != nil {
		return err
	}
	time.Sleep(c.settle)
	after, err := scrape(client, c.target)
	if err != nil {
		return err
	}
	d := func(name string) float64 { return after[name] - before[name] }
	secs := elapsed.Seconds()
	accepted, counted := d("plaza_plays_accepted_total"), d("plaza_plays_counted_total")
	flushes, rows := d("plaza_plays_flushes_total"), d("plaza_plays_rows_written_total")
	// The writer pool: SQLite's one writer connection, or MySQL's primary
	// (which also serves fresh reads).
	writerStmts := d(`plaza_db_queries_total{pool="sqlite-writer"}`) + d(`plaza_db_queries_total{pool="primary"}`)
	fmt.Printf("offered %d plays/s for %s to %d mixes from %d listeners over %d connections (pipelining up to %d)\n", c.rate, c.duration, len(ids), c.listeners, c.conns, c.pipeline)
	fmt.Printf("sent %d (%d failed) in %.1f s\n", sent, failed, secs)
	fmt.Printf("accepted plays/s        %10.0f\n", accepted/secs)
	fmt.Printf("counted plays/s         %10.0f  (first of their listener and mix in 30 min)\n", counted/secs)
	fmt.Printf("flush transactions/s    %10.2f\n", flushes/secs)
	fmt.Printf("mix rows written/s      %10.1f\n", rows/secs)
	fmt.Printf("writer statements/s     %10.2f  (every statement and transaction on the writer pool)\n", writerStmts/secs)
	if rows > 0 {
		fmt.Printf("accepted plays per row written: %.0f; per writer statement: %.0f\n", accepted/rows, accepted/max(writerStmts, 1))
	}
	fmt.Printf("RESULT accepted_per_s=%.0f rows_per_s=%.1f writer_stmts_per_s=%.2f flushes_per_s=%.2f\n", accepted/secs, rows/secs, writerStmts/secs, flushes/secs)
	return nil
}

func login(client *http.Client, target, user, pass string) (string, int64, error) {
	b, _ := json.Marshal(map[string]string{"login": user, "password": pass})
	res, err := client.Post(target+"/api/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	var out struct {
		Token string
		User  struct{ ID int64 }
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Token == "" {
		return "", 0, fmt.Errorf("login as %s: status %d", user, res.StatusCode)
	}
	return out.Token, out.User.ID, nil
}

func call(client *http.Client, req *http.Request, want int, out any) error {
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, body)
	}
	if out != nil {
		return json.Unmarshal(body, out)
	}
	return nil
}

// publish returns n mixes of the account: those it has, and as many new
// ones made of a short uploaded MP3 as are missing.
func publish(client *http.Client, target, token string, uid int64, n int) ([]int64, error) {
	var ids []int64
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/mixes?creator=%d&limit=100", target, uid), nil)
	var have struct{ Items []struct{ ID int64 } }
	if err := call(client, req, 200, &have); err != nil {
		return nil, err
	}
	for _, m := range have.Items {
		if len(ids) < n {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == n {
		return ids, nil
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "bench.mp3")
	fw.Write(append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 1024)...))
	mw.Close()
	req, _ = http.NewRequest("POST", target+"/api/uploads", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	var up struct{ URL string }
	if err := call(client, req, 201, &up); err != nil {
		return nil, err
	}
	for i := len(ids); i < n; i++ {
		b, _ := json.Marshal(map[string]any{"title": fmt.Sprintf("Bench mix %d", i), "genres": []string{"techno"}, "durationSec": 3600, "audioUrl": up.URL})
		req, _ := http.NewRequest("POST", target+"/api/mixes", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		var m struct{ ID int64 }
		if err := call(client, req, 201, &m); err != nil {
			return nil, err
		}
		ids = append(ids, m.ID)
	}
	return ids, nil
}

// load offers plays at c.rate: a pacer hands out one ticket per play, and
// c.conns connections send a play per ticket. If the server falls behind,
// the tickets wait and the achieved rate is what the server sustained.
//
// The connections speak HTTP/1.1 by hand (keep-alive, up to --pipeline
// requests written before their answers are read) instead of through
// net/http's client, which costs several times the server's own work per
// request: on a small shared machine the driver would otherwise measure
// itself.
func load(c config, ids []int64) (sent, failed int64, elapsed time.Duration, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.duration)
	defer cancel()
	tickets := make(chan struct{}, c.conns*c.pipeline*2)
	go func() {
		defer close(tickets)
		const tick = 2 * time.Millisecond
		t := time.NewTicker(tick)
		defer t.Stop()
		start := time.Now()
		issued := 0
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				due := int(now.Sub(start).Seconds() * float64(c.rate))
				for ; issued < due; issued++ {
					select {
					case tickets <- struct{}{}:
					case <-ctx.Done():
						return
					}
				}
			}
		}
	}()
	u, err := url.Parse(c.target)
	if err != nil {
		return 0, 0, 0, err
	}
	var nSent, nFailed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, c.conns)
	start := time.Now()
	for w := range c.conns {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			return 0, 0, 0, err
		}
		wg.Go(func() {
			defer conn.Close()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			br, bw := bufio.NewReaderSize(conn, 16<<10), bufio.NewWriterSize(conn, 16<<10)
			var line []byte
			for range tickets {
				n := 1
			more:
				for n < c.pipeline {
					select {
					case _, ok := <-tickets:
						if !ok {
							break more
						}
						n++
					default:
						break more
					}
				}
				for range n {
					l := rng.IntN(c.listeners)
					line = line[:0]
					line = append(line, "POST /api/mixes/"...)
					line = strconv.AppendInt(line, ids[rng.IntN(len(ids))], 10)
					line = append(line, "/plays HTTP/1.1\r\nHost: "...)
					line = append(line, u.Host...)
					line = append(line, "\r\nContent-Length: 0\r\nX-Forwarded-For: 10."...)
					line = strconv.AppendInt(line, int64(l>>16&255), 10)
					line = append(line, '.')
					line = strconv.AppendInt(line, int64(l>>8&255), 10)
					line = append(line, '.')
					line = strconv.AppendInt(line, int64(l&255), 10)
					line = append(line, "\r\n\r\n"...)
					bw.Write(line)
				}
				if err := bw.Flush(); err != nil {
					errs <- err
					return
				}
				for range n {
					status, err := readResponse(br)
					nSent.Add(1)
					if err != nil {
						errs <- err
						return
					}
					if status != http.StatusAccepted {
						nFailed.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed = time.Since(start)
	close(errs)
	for e := range errs {
		return nSent.Load(), nFailed.Load(), elapsed, e
	}
	return nSent.Load(), nFailed.Load(), elapsed, nil
}

// readResponse reads one response and returns its status.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length := 0
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(h, []byte(":")); ok && strings.EqualFold(string(k), "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(string(v)))
		}
	}
	_, err = br.Discard(length)
	return status, err
}

// scrape reads the Prometheus text of /metrics into name{labels} → value.
func scrape(client *http.Client, target string) (map[string]float64, error) {
	req, _ := http.NewRequest("GET", target+"/metrics", nil)
	if tok := os.Getenv("PLAZA_METRICS_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("/metrics: %d", res.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}
