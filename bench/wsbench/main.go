// Command wsbench measures Plaza's WebSocket side against a running
// `plaza serve` in another process (each process stays under the open-file
// limit):
//
//	wsbench seed --data-dir D [--database-url U] --users N --tokens F [--channels C --rooms R]
//	    bulk-creates N users with sessions and writes their tokens to F (and
//	    C public channels, their rooms written to R)
//	wsbench run --target http://127.0.0.1:8080 [--pub-target URL] --tokens F
//	    --conns 10000 --room chat|ROOM,ROOM,... --pid PID --rates 10,50,100 --duration 10s
//	    holds the connections (spread over the rooms), reports the server's
//	    RSS per connection, then publishes at each rate (shouts to chat,
//	    messages to channels, the rooms in turn) and reports delivery latency
//	    and deliveries per second.
//	wsbench floor --conns 10000 --rates 10,0 --duration 10s [--batch K --writers W]
//	    the kernel's floor, no Plaza code: one small frame written to each of
//	    N loopback connections per message, read by a second process;
//	    reports CPU per delivery and deliveries per second (floor.go).
//	wsbench httpfloor --rate 760 --clients 50 --duration 20s [--post-share 0.2 --size 1200 --json F]
//	    the HTTP floor, no Plaza code: a bare net/http server in its own
//	    process answering Poisson-timed GETs and POSTs from keep-alive
//	    clients; reports req/s, the server's cores and CPU per request,
//	    client-side p50/p99 (httpfloor.go).
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
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/lxzan/gws"
	"github.com/plazahq/plaza/bench/internal/benchkit"
	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqlstore"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: wsbench seed|run|floor|httpfloor [flags]")
		os.Exit(2)
	}
	err := command(os.Args[1], os.Args[2:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsbench:", err)
		os.Exit(1)
	}
}

// command runs one subcommand; floor-read and httpfloor-serve are the
// child processes that floor and httpfloor start.
func command(name string, args []string) error {
	switch name {
	case "seed":
		return seed(args)
	case "run":
		return run(args)
	case "floor":
		return floor(args)
	case "floor-read":
		return floorRead(args)
	case "httpfloor":
		return httpFloor(args)
	case "httpfloor-serve":
		return httpFloorServe(args)
	}
	return fmt.Errorf("unknown command %q", name)
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	dir := fs.String("data-dir", "", "Plaza data dir (SQLite)")
	dbURL := fs.String("database-url", "", "mysql:// URL instead of SQLite")
	users := fs.Int("users", 10000, "users to create")
	out := fs.String("tokens", "tokens.txt", "file to write one session token per line")
	channels := fs.Int("channels", 0, "public channels to create")
	roomsOut := fs.String("rooms", "", "with --channels: file to write their rooms to, comma-separated")
	fs.Parse(args)
	ctx := context.Background()
	db, err := sqldb.Open(ctx, sqldb.Config{DataDir: *dir, URL: *dbURL, PoolSize: 4})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, benchkit.Quiet); err != nil {
		return err
	}
	start := time.Now()
	if err := benchkit.SeedUsers(ctx, db, *users); err != nil {
		return err
	}
	var rooms []string
	for i := range *channels {
		ch, err := sqlstore.NewCommunity(db, nil, gamification.DefaultRules).CreateChannel(ctx, community.Channel{Slug: fmt.Sprintf("bench-%d", i), Name: fmt.Sprintf("Bench %d", i), CreatedAt: time.Now()}, 1)
		if err != nil {
			return err
		}
		rooms = append(rooms, fmt.Sprintf("channel:%d", ch.ID))
	}
	if *roomsOut != "" {
		if err := os.WriteFile(*roomsOut, []byte(strings.Join(rooms, ",")), 0o644); err != nil {
			return err
		}
	}
	store := sqlstore.NewAccounts(db)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	for id := int64(1); id <= int64(*users); id++ {
		tok, err := account.MintSession(ctx, store, id, 24*time.Hour, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(w, tok)
	}
	fmt.Printf("seeded %d users with sessions in %s\n", *users, time.Since(start).Round(time.Millisecond))
	return w.Flush()
}

func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return -1
}

func threads(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Threads:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "Threads:"))
		}
	}
	return "?"
}

// receipts collects delivery latencies, in shards so that 10,000 reading
// goroutines do not queue on one lock (the client must cost less than the
// server it measures).
type receipts struct {
	shards [64]receiptShard
	gaps   atomic.Int64
	total  atomic.Int64
}

type receiptShard struct {
	mu    sync.Mutex
	hist  *hdrhistogram.Histogram // every delivery, µs
	last  map[int64]int64         // message stamp -> latest receipt latency µs
	count map[int64]int           // message stamp -> receipts
}

func newReceipts() *receipts {
	r := &receipts{}
	r.reset()
	return r
}

func (r *receipts) reset() {
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		sh.hist, sh.last, sh.count = hdrhistogram.New(1, 60_000_000, 3), map[int64]int64{}, map[int64]int{}
		sh.mu.Unlock()
	}
}

// merged folds the shards together.
func (r *receipts) merged() (*hdrhistogram.Histogram, map[int64]int64, map[int64]int) {
	hist, last, count := hdrhistogram.New(1, 60_000_000, 3), map[int64]int64{}, map[int64]int{}
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		hist.Merge(sh.hist)
		for k, v := range sh.last {
			last[k] = max(last[k], v)
		}
		for k, v := range sh.count {
			count[k] += v
		}
		sh.mu.Unlock()
	}
	return hist, last, count
}

// number reads the integer after key in b.
func number(b []byte, key string) (int64, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, false
	}
	j := i + len(key)
	k := j
	for k < len(b) && b[k] >= '0' && b[k] <= '9' {
		k++
	}
	n, err := strconv.ParseInt(string(b[j:k]), 10, 64)
	return n, err == nil
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	target := fs.String("target", "http://127.0.0.1:8080", "server the subscribers connect to")
	pubTarget := fs.String("pub-target", "", "server the publisher posts to (default: target)")
	tokensFile := fs.String("tokens", "tokens.txt", "session tokens, one per line")
	conns := fs.Int("conns", 10000, "connections to hold")
	roomList := fs.String("room", "chat", "room(s) the connections subscribe to, comma-separated (chat or channel:ID): connection i takes room i mod N, and messages go to the rooms in turn")
	pid := fs.Int("pid", 0, "server process id, for RSS")
	ramp := fs.Int("ramp", 2000, "connections opened per second")
	idle := fs.Duration("idle", 5*time.Second, "how long to hold idle connections before measuring")
	rates := fs.String("rates", "10", "publish rates (messages/s) to run, comma-separated")
	duration := fs.Duration("duration", 10*time.Second, "length of each publish rate")
	jsonOut := fs.String("json", "", "write results as JSON to this file")
	debug := fs.String("debug", "", "the server's profiler address (PLAZA_DEBUG_ADDR): splits the idle memory into heap and goroutine stacks, and writes the idle heap profile to --heap-profile")
	heapOut := fs.String("heap-profile", "", "with --debug: file for the server's heap profile with the connections idle")
	cpuOut := fs.String("cpu-profile", "", "file for this process's CPU profile while it publishes (the clients' share of the box)")
	fs.Parse(args)
	if *pubTarget == "" {
		*pubTarget = *target
	}
	b, err := os.ReadFile(*tokensFile)
	if err != nil {
		return err
	}
	tokens := strings.Fields(string(b))
	if len(tokens) < *conns+1 {
		return fmt.Errorf("%d tokens for %d connections plus a publisher", len(tokens), *conns)
	}
	rooms := strings.Split(*roomList, ",")
	for _, r := range rooms {
		if r != "chat" && !strings.HasPrefix(r, "channel:") {
			return fmt.Errorf("room %q: use chat or channel:ID", r)
		}
	}
	results := map[string]any{"conns": *conns, "rooms": rooms}
	perRoom := map[string]int{} // subscribers connected per room

	runtime.GC()
	base := rssKB(*pid)
	fmt.Printf("server rss before: %d KB (threads %s)\n", base, threads(*pid))
	mem0, _ := serverMem(*debug, "")
	rec := newReceipts()
	ws := "ws" + strings.TrimPrefix(*target, "http") + "/api/ws?token="
	var open []*gws.Conn
	var mu sync.Mutex
	var failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(*ramp))
	var connectHist = hdrhistogram.New(1, 60_000_000, 3)
	var histMu sync.Mutex
	for i := 0; i < *conns; i++ {
		<-tick.C
		wg.Add(1)
		go func(tok string, idx int) {
			defer wg.Done()
			t0 := time.Now()
			room := rooms[idx%len(rooms)]
			h := &reader{room: room, subscribed: make(chan struct{}), rec: rec, sh: &rec.shards[idx%len(rec.shards)]}
			c, _, err := gws.NewClient(h, &gws.ClientOption{Addr: ws + tok, ReadMaxPayloadSize: 1 << 20, HandshakeTimeout: 20 * time.Second})
			if err != nil {
				failed.Add(1)
				return
			}
			go c.ReadLoop()
			sub, _ := json.Marshal(map[string]string{"op": "subscribe", "room": room})
			if err := c.WriteMessage(gws.OpcodeText, sub); err != nil {
				failed.Add(1)
				return
			}
			select { // our room's subscribed frame
			case <-h.subscribed:
			case <-time.After(20 * time.Second):
				failed.Add(1)
				c.NetConn().Close()
				return
			}
			histMu.Lock()
			connectHist.RecordValue(time.Since(t0).Microseconds())
			histMu.Unlock()
			mu.Lock()
			open = append(open, c)
			perRoom[room]++
			mu.Unlock()
		}(tokens[i], i)
	}
	tick.Stop()
	wg.Wait()
	fmt.Printf("connected %d (failed %d) in %s; connect+subscribe p50 %.1f ms p99 %.1f ms\n", len(open), failed.Load(),
		time.Since(start).Round(time.Millisecond), float64(connectHist.ValueAtQuantile(50))/1000, float64(connectHist.ValueAtQuantile(99))/1000)
	time.Sleep(*idle)
	after := rssKB(*pid)
	perConn := float64(after-base) * 1024 / float64(max(len(open), 1))
	fmt.Printf("server rss with %d idle subscribed connections: %d KB (threads %s) -> %.1f KB per connection\n", len(open), after, threads(*pid), perConn/1024)
	if mem1, err := serverMem(*debug, *heapOut); err == nil && mem0 != nil {
		n := float64(max(len(open), 1))
		// HeapAlloc, read after a GC, is the live heap: what the connections
		// hold, without the garbage and fragmentation that move RSS from
		// run to run.
		for _, k := range []string{"HeapAlloc", "HeapInuse", "Stack", "Sys"} {
			per := float64(mem1[k]-mem0[k]) / n
			fmt.Printf("  server %s: %d -> %d KB, %.1f KB per connection\n", k, mem0[k]/1024, mem1[k]/1024, per/1024)
			results[k+"PerConn"] = per
		}
		fmt.Printf("  server goroutines: %d -> %d\n", mem0["goroutines"], mem1["goroutines"])
	} else if *debug != "" {
		fmt.Println("  server memory breakdown not read:", err)
	}
	results["connected"], results["failed"] = len(open), failed.Load()
	results["rssBeforeKB"], results["rssAfterKB"], results["bytesPerConn"] = base, after, perConn
	results["connectP50ms"], results["connectP99ms"] = float64(connectHist.ValueAtQuantile(50))/1000, float64(connectHist.ValueAtQuantile(99))/1000

	var runs []map[string]any
	pubToken := tokens[len(tokens)-1]
	stopProfile, err := benchkit.CPUProfile(*cpuOut)
	if err != nil {
		return err
	}
	defer stopProfile()
	for _, rs := range strings.Split(*rates, ",") {
		rate, err := strconv.Atoi(strings.TrimSpace(rs))
		if err != nil || rate <= 0 {
			return fmt.Errorf("bad rate %q", rs)
		}
		r := publish(*pubTarget, pubToken, rate, *duration, rec, rooms, perRoom, *pid)
		runs = append(runs, r)
	}
	results["rates"] = runs
	results["gaps"] = rec.gaps.Load()
	fmt.Printf("seq gaps seen by clients: %d\n", rec.gaps.Load())
	for _, c := range open {
		c.NetConn().Close()
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		return os.WriteFile(*jsonOut, b, 0o644)
	}
	return nil
}

// reader is one client connection's event handler: it notes the
// subscription, then records every shout's delivery latency and seq gaps.
// The clients run on gws (event-driven, no context or timer per read), so
// they leave the shared cores to the server as far as a client can.
type reader struct {
	gws.BuiltinEventHandler // answers pings
	room                    string
	subscribed              chan struct{}
	once                    sync.Once
	rec                     *receipts
	sh                      *receiptShard
	lastSeq                 int64
}

func (r *reader) OnMessage(_ *gws.Conn, m *gws.Message) {
	defer m.Close()
	now := time.Now().UnixNano()
	b := m.Bytes()
	if !bytes.Contains(b, []byte(`"type":"shout.created"`)) && !bytes.Contains(b, []byte(`"type":"message.created"`)) {
		if bytes.Contains(b, []byte(`"op":"subscribed"`)) && bytes.Contains(b, []byte(`"room":"`+r.room+`"`)) {
			r.once.Do(func() { close(r.subscribed) })
		}
		return
	}
	stamp, ok1 := number(b, `"body":"t=`)
	seq, ok2 := number(b, `"seq":`)
	if !ok1 || !ok2 {
		return
	}
	if r.lastSeq != 0 && seq != r.lastSeq+1 {
		r.rec.gaps.Add(1)
	}
	r.lastSeq = seq
	lat := (now - stamp) / 1000
	r.rec.total.Add(1)
	sh := r.sh
	sh.mu.Lock()
	sh.hist.RecordValue(lat)
	if lat > sh.last[stamp] {
		sh.last[stamp] = lat
	}
	sh.count[stamp]++
	sh.mu.Unlock()
}

// publish posts messages whose body is their send time, at rate per second,
// to the rooms in turn: shouts for chat, channel messages for channel:ID.
func publish(target, token string, rate int, d time.Duration, rec *receipts, rooms []string, perRoom map[string]int, pid int) map[string]any {
	rec.reset()
	before := rec.total.Load()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var errs atomic.Int64
	var wg sync.WaitGroup
	t := time.NewTicker(time.Second / time.Duration(rate))
	end := time.Now().Add(d)
	sent := 0
	var expected int64
	var stampMu sync.Mutex
	roomOf := map[int64]string{} // message stamp -> its room
	cpu0, own0 := benchkit.CPUTicks(pid), benchkit.CPUTicks(os.Getpid())
	frames0, writes0 := wsCounters(target)
	var postMu sync.Mutex
	postHist := hdrhistogram.New(1, 60_000_000, 3) // the publisher's POST, until its 201
	start := time.Now()
	for now := range t.C {
		if now.After(end) {
			break
		}
		room := rooms[sent%len(rooms)]
		sent++
		path := "/api/shouts"
		if id, ok := strings.CutPrefix(room, "channel:"); ok {
			path = "/api/community/channels/" + id + "/messages"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			stamp := time.Now().UnixNano()
			stampMu.Lock()
			roomOf[stamp] = room
			stampMu.Unlock()
			status, err := post(client, target+path, token, fmt.Sprintf(`{"body":"t=%d"}`, stamp))
			postMu.Lock()
			postHist.RecordValue((time.Now().UnixNano() - stamp) / 1000)
			postMu.Unlock()
			if err != nil || status != 201 {
				errs.Add(1)
			} else {
				atomic.AddInt64(&expected, int64(perRoom[room]))
			}
		}()
	}
	t.Stop()
	wg.Wait()
	time.Sleep(2 * time.Second) // let the last deliveries land
	elapsed := time.Since(start)
	serverTicks, ownTicks := benchkit.CPUTicks(pid)-cpu0, benchkit.CPUTicks(os.Getpid())-own0
	frames1, writes1 := wsCounters(target)
	framesPerWrite := (frames1 - frames0) / max(writes1-writes0, 1)
	cpu := float64(serverTicks) / 100 / elapsed.Seconds()
	delivered := rec.total.Load() - before
	// CPU per delivery of the server and of this process (the clients and
	// the publisher), which share the box's cores: what the clients take
	// is not the server's to spend.
	perDelivery := func(ticks int64) float64 { return float64(ticks) * 1e4 / float64(max(delivered, 1)) }
	hist, last, count := rec.merged()
	lastHist := hdrhistogram.New(1, 60_000_000, 3)
	complete := 0
	for stamp, l := range last {
		lastHist.RecordValue(l)
		if count[stamp] == perRoom[roomOf[stamp]] {
			complete++
		}
	}
	r := map[string]any{
		"rate": rate, "sent": sent, "publishErrors": errs.Load(), "delivered": delivered, "expected": expected,
		"deliveriesPerSec": float64(delivered) / d.Seconds(),
		"p50ms":            ms(hist, 50), "p99ms": ms(hist, 99), "maxMs": float64(hist.Max()) / 1000,
		"lastSubscriberP50ms": ms(lastHist, 50), "lastSubscriberP99ms": ms(lastHist, 99),
		"messagesReachingAll": complete, "serverCPUcores": cpu,
		"serverCPUusPerDelivery": perDelivery(serverTicks), "clientCPUcores": float64(ownTicks) / 100 / elapsed.Seconds(),
		"clientCPUusPerDelivery": perDelivery(ownTicks), "postP50ms": ms(postHist, 50), "postP99ms": ms(postHist, 99),
		"framesPerWrite": framesPerWrite,
	}
	fmt.Printf("rate %4d msg/s: sent %d (errors %d), delivered %d of %d (%.0f/s), latency p50 %.1f ms p99 %.1f ms max %.1f ms; last subscriber p50 %.1f ms p99 %.1f ms; server CPU %.2f cores\n",
		rate, sent, errs.Load(), delivered, expected, float64(delivered)/d.Seconds(), ms(hist, 50), ms(hist, 99),
		float64(hist.Max())/1000, ms(lastHist, 50), ms(lastHist, 99), cpu)
	fmt.Printf("          CPU per delivery: server %.2f µs, clients %.2f µs (%.2f cores); publisher's POST p50 %.1f ms p99 %.1f ms; %.2f frames per socket write\n",
		perDelivery(serverTicks), perDelivery(ownTicks), float64(ownTicks)/100/elapsed.Seconds(), ms(postHist, 50), ms(postHist, 99), framesPerWrite)
	return r
}

// post sends a JSON body as the publisher and reads the answer to its
// end, so the connection goes back to client's pool: closed unread, every
// message opened a connection of its own (a handshake, an accept and a
// new goroutine on each side before the post, and a close after it).
func post(client *http.Client, url, token, body string) (status int, err error) {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

// serverMem reads the server's memory figures (runtime.MemStats, as
// /debug/pprof/heap?debug=1 prints them, and the goroutine count) from its
// profiler at addr, after a GC; with out, it also saves the heap profile
// there. No addr: nothing.
func serverMem(addr, out string) (map[string]int64, error) {
	if addr == "" {
		return nil, nil
	}
	get := func(path string) ([]byte, error) {
		res, err := http.Get("http://" + addr + path)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			return nil, fmt.Errorf("GET %s: %s", path, res.Status)
		}
		var buf bytes.Buffer
		_, err = buf.ReadFrom(res.Body)
		return buf.Bytes(), err
	}
	b, err := get("/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "# "), " = "); ok && strings.HasPrefix(line, "# ") {
			v, _, _ = strings.Cut(v, " ") // "# Stack = inuse / sys"
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				m[k] = n
			}
		}
	}
	if g, err := get("/debug/pprof/goroutine?debug=1"); err == nil {
		if n, ok := number(g, "goroutine profile: total "); ok {
			m["goroutines"] = n
		}
	}
	if out != "" {
		p, err := get("/debug/pprof/heap")
		if err != nil {
			return m, err
		}
		return m, os.WriteFile(out, p, 0o644)
	}
	return m, nil
}

func ms(h *hdrhistogram.Histogram, q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }

// wsCounters reads the server's frames queued to WebSockets
// (plaza_ws_delivered_total) and socket writes (plaza_ws_writes_total)
// from its /metrics (with the token in PLAZA_METRICS_TOKEN, as
// scripts/wsbench.sh sets it); zeros if it does not answer.
func wsCounters(target string) (frames, writes float64) {
	req, _ := http.NewRequest("GET", target+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+os.Getenv("PLAZA_METRICS_TOKEN"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(val, 64)
		switch name {
		case "plaza_ws_delivered_total":
			frames = v
		case "plaza_ws_writes_total":
			writes = v
		}
	}
	return frames, writes
}
