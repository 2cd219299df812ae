package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/lxzan/gws"

	"github.com/plazahq/plaza/internal/proccpu"
)

// Mix is how often, on average, each user does each thing (exponentially
// distributed intervals; 0 = never).
type Mix struct {
	ReadHistory time.Duration `json:"readHistory"` // GET the channel's latest messages
	Post        time.Duration `json:"post"`        // typing, then POST a channel message
	DM          time.Duration `json:"dm"`          // POST a direct message to a neighbour
	Profile     time.Duration `json:"profile"`     // GET another user's profile
	Shouts      time.Duration `json:"shouts"`      // GET the shout feed
	Me          time.Duration `json:"me"`          // GET /api/users/me
	// The content reads (they need prepared courses and mixes).
	Courses     time.Duration `json:"courses"`     // GET /api/courses
	Course      time.Duration `json:"course"`      // GET /api/courses/{id}
	Mixes       time.Duration `json:"mixes"`       // GET /api/mixes
	Play        time.Duration `json:"play"`        // POST /api/mixes/{id}/plays
	Events      time.Duration `json:"events"`      // GET /api/events
	NowPlaying  time.Duration `json:"nowPlaying"`  // GET /api/live/now-playing
	Leaderboard time.Duration `json:"leaderboard"` // GET /api/leaderboard?around=me
}

// DefaultMix is a member reading along and chatting now and then, and
// looking at courses, mixes, events and what is on air now and then.
var DefaultMix = Mix{ReadHistory: 30 * time.Second, Post: 60 * time.Second, DM: 5 * time.Minute,
	Profile: 2 * time.Minute, Shouts: 2 * time.Minute, Me: 5 * time.Minute,
	Courses: 5 * time.Minute, Course: 5 * time.Minute, Mixes: 3 * time.Minute, Play: 3 * time.Minute,
	Events: 5 * time.Minute, NowPlaying: 2 * time.Minute, Leaderboard: 5 * time.Minute}

// ParseMix reads "post=60s,dm=5m,..." over DefaultMix.
func ParseMix(s string) (Mix, error) {
	m := DefaultMix
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		d, err := time.ParseDuration(v)
		if v == "0" || v == "off" {
			d, err = 0, nil
		}
		if !ok || err != nil || d < 0 {
			return m, fmt.Errorf("mix: %q is not name=duration", kv)
		}
		switch k {
		case "read":
			m.ReadHistory = d
		case "post":
			m.Post = d
		case "dm":
			m.DM = d
		case "profile":
			m.Profile = d
		case "shouts":
			m.Shouts = d
		case "me":
			m.Me = d
		case "courses":
			m.Courses = d
		case "course":
			m.Course = d
		case "mixes":
			m.Mixes = d
		case "play":
			m.Play = d
		case "events":
			m.Events = d
		case "nowplaying":
			m.NowPlaying = d
		case "leaderboard":
			m.Leaderboard = d
		default:
			return m, fmt.Errorf("mix: unknown action %q (read, post, dm, profile, shouts, me, courses, course, mixes, play, events, nowplaying, leaderboard)", k)
		}
	}
	return m, nil
}

// Config is one run.
type Config struct {
	Targets      []string // base URLs; users are spread over them
	Users        int
	Duration     time.Duration // the steady state's length
	Settle       time.Duration // between everyone being connected and the steady state
	Ramp         int           // users started per second
	Mix          Mix
	P95          time.Duration // threshold for HTTP p95 (seed: 500 ms)
	ErrorRate    float64       // threshold (seed: 1 %)
	MetricsToken string        // PLAZA_METRICS_TOKEN: sent as a bearer token to each target's /metrics
	// Conns caps the HTTP connections to each target (default 1,000):
	// requests past it wait for one, and the wait counts in their latency.
	Conns         int
	Progress      io.Writer
	ProgressEvery time.Duration
}

type route struct {
	hist, steady      *hdrhistogram.Histogram // the whole run; the steady state
	count, errs, l429 int64
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 120_000_000, 3) }

// run is the state of one load test.
type run struct {
	cfg   Config
	prep  Prepared
	http  *http.Client
	start time.Time
	// steadyFrom is when the steady state began: everyone connected, then
	// the settle time (unix nanos; 0 before). Samples
	// scheduled from then on also count in the steady-state figures.
	steadyFrom atomic.Int64

	mu       sync.Mutex
	routes   map[string]*route
	errKinds map[string]int64 // what the failed requests failed with

	connMu                                                                                  sync.Mutex
	connects                                                                                *hdrhistogram.Histogram
	shards                                                                                  [64]histShard // delivery latencies, sharded to spread the locking
	connected, deliveries, gaps, outOfOrder, duplicates, resyncs, disconnects, connectFails atomic.Int64
	frames                                                                                  atomic.Int64 // WebSocket frames received
	dials                                                                                   atomic.Int64 // HTTP connections opened
	over                                                                                    atomic.Bool  // the run has ended
}

type histShard struct {
	mu           sync.Mutex
	hist, steady *hdrhistogram.Histogram
}

// steady says whether something that started at t is part of the steady state.
func (r *run) steady(t int64) bool {
	from := r.steadyFrom.Load()
	return from != 0 && t >= from
}

func (r *run) record(name string, sched time.Time, status int, err error) {
	lat := time.Since(sched).Microseconds()
	r.mu.Lock()
	defer r.mu.Unlock()
	rt := r.routes[name]
	if rt == nil {
		rt = &route{hist: newHist(), steady: newHist()}
		r.routes[name] = rt
	}
	rt.count++
	rt.hist.RecordValue(lat)
	if r.steady(sched.UnixNano()) {
		rt.steady.RecordValue(lat)
	}
	switch {
	case status == http.StatusTooManyRequests:
		rt.l429++
	case err != nil || status >= 400:
		rt.errs++
		r.errKinds[errKind(status, err)]++
	}
}

// errKind names what a failed request failed with, without the addresses
// and URLs that would make every failure its own kind: the status of an
// answer, or the innermost error of one that got none (a reset, a
// refused dial, a timeout, too many open files on the generator's side).
func errKind(status int, err error) string {
	if err == nil {
		return "HTTP " + strconv.Itoa(status)
	}
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err.Error()
		}
		err = inner
	}
}

// call sends one request scheduled at sched and records its latency from
// then (open loop: a slow server shows as latency, not as fewer requests).
func (r *run) call(ctx context.Context, name, method, url, token string, body any, sched time.Time, out any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := r.http.Do(req)
	status := 0
	if err == nil {
		status = res.StatusCode
		if out != nil && status < 300 {
			json.NewDecoder(res.Body).Decode(out)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	if ctx.Err() != nil {
		return // the run ended mid-request
	}
	r.record(name, sched, status, err)
}

// Run drives the load until ctx ends or the duration passes.
func Run(ctx context.Context, cfg Config, prep Prepared) (*Report, error) {
	if len(cfg.Targets) == 0 || cfg.Users <= 0 || cfg.Users > len(prep.Users) {
		return nil, fmt.Errorf("loadtest: %d users asked, %d prepared, %d targets", cfg.Users, len(prep.Users), len(cfg.Targets))
	}
	if cfg.Ramp <= 0 {
		cfg.Ramp = 500
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 5 * time.Second
	}
	if cfg.Conns <= 0 {
		cfg.Conns = 1000
	}
	r := &run{cfg: cfg, prep: prep, routes: map[string]*route{}, errKinds: map[string]int64{}, connects: newHist()}
	// A bounded pool of kept-alive connections, as a population of
	// browsers keeps theirs: without the bound every request that found
	// no idle connection dialled a new one, so each stall of the server
	// (open loop: ~1,000 requests a second keep coming) became a storm of
	// hundreds of dials that overflowed its accept queue, and the dropped
	// SYNs came back as 1 s and 3 s retransmits or 10 s dial timeouts.
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	r.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if !r.over.Load() {
				r.dials.Add(1) // not the dials for requests cut off by the end of the run
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxConnsPerHost: cfg.Conns, MaxIdleConns: cfg.Conns * len(cfg.Targets), MaxIdleConnsPerHost: cfg.Conns,
		IdleConnTimeout: time.Minute}}
	for i := range r.shards {
		r.shards[i].hist, r.shards[i].steady = newHist(), newHist()
	}
	before := scrapeAll(cfg.Targets, cfg.MetricsToken)
	r.start = time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The progress line and the report write to the same output: the
	// report waits until the progress goroutine has returned.
	done, progressed := make(chan struct{}), make(chan struct{})
	go func() { defer close(progressed); r.progress(ctx, done) }()
	var wg sync.WaitGroup
	// User i starts at i/Ramp seconds: paced by the clock, not by a ticker
	// (which drops ticks when the machine is busy), so a loaded generator
	// catches up rather than ramping slower than asked.
	for i := 0; i < cfg.Users; i++ {
		at := r.start.Add(time.Duration(i) * time.Second / time.Duration(cfg.Ramp))
		if d := time.Until(at); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() { defer wg.Done(); r.user(ctx, i) }()
	}
	// The steady state starts once every user is connected (or has failed
	// to) and Settle has passed, and lasts Duration. Resources are read
	// just before its end, with every user still on.
	rampEnd := time.Now()
	for r.connected.Load()+r.connectFails.Load() < int64(cfg.Users) && ctx.Err() == nil && time.Since(rampEnd) < 2*time.Minute {
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-ctx.Done():
	case <-time.After(cfg.Settle):
	}
	steadyFrom := time.Now()
	r.steadyFrom.Store(steadyFrom.UnixNano())
	// The steady state's cost is read between this scrape and the peak one.
	steadyStart := scrapeAll(cfg.Targets, cfg.MetricsToken)
	steadyAt, genFrom := time.Now(), r.sample()
	peakIn := cfg.Duration - min(2*time.Second, cfg.Duration/10)
	var peak []metrics
	var peakAt time.Time
	var genTo genSample
	select {
	case <-time.After(peakIn - time.Since(steadyFrom)):
		genTo = r.sample()
		peak, peakAt = scrapeAll(cfg.Targets, cfg.MetricsToken), time.Now()
		select {
		case <-time.After(cfg.Duration - peakIn):
		case <-ctx.Done():
		}
	case <-ctx.Done():
		genTo = r.sample()
		peak, peakAt = scrapeAll(cfg.Targets, cfg.MetricsToken), time.Now()
	}
	r.over.Store(true)
	cancel()
	wg.Wait()
	close(done)
	<-progressed
	rep := r.report(before, peak)
	rep.costs(steadyStart, peak, peakAt.Sub(steadyAt).Seconds())
	rep.Generator = genCost(genFrom, genTo)
	return rep, nil
}

// genSample is the generator's own reading: its CPU so far, the requests
// it has had answered (or failed) and the frames it has received.
type genSample struct {
	at       time.Time
	cpu      time.Duration
	cpuOK    bool
	requests int64
	frames   int64
	dials    int64
}

func (r *run) sample() genSample {
	g := genSample{at: time.Now(), frames: r.frames.Load(), dials: r.dials.Load()}
	g.cpu, g.cpuOK = proccpu.Used()
	r.mu.Lock()
	for _, rt := range r.routes {
		g.requests += rt.count
	}
	r.mu.Unlock()
	return g
}

// user is one simulated member.
func (r *run) user(ctx context.Context, i int) {
	u := r.prep.Users[i]
	target := r.cfg.Targets[i%len(r.cfg.Targets)]
	channel := r.prep.Channels[i%len(r.prep.Channels)]
	room := "channel:" + strconv.FormatInt(channel, 10)
	neighbour := r.prep.Users[(i+1)%r.cfg.Users].ID
	ws := &socket{r: r, url: "ws" + strings.TrimPrefix(target, "http") + "/api/ws?token=" + u.Token, rooms: []string{"chat", room},
		shard: &r.shards[rand.IntN(len(r.shards))], seqs: map[string]int64{}}
	if !ws.connect(ctx) {
		return
	}
	var thread atomic.Int64
	base := target + "/api"
	acts := []*action{
		{every: r.cfg.Mix.ReadHistory, do: func(s time.Time) {
			r.call(ctx, "GET /api/community/channels/{id}/messages", "GET", fmt.Sprintf("%s/community/channels/%d/messages?limit=50", base, channel), u.Token, nil, s, nil)
		}},
		{every: r.cfg.Mix.Post, do: func(s time.Time) {
			ws.send(`{"op":"typing","room":"` + room + `"}`)
			body := map[string]string{"body": "lt:" + strconv.FormatInt(time.Now().UnixNano(), 10) + " hello from the load test"}
			r.call(ctx, "POST /api/community/channels/{id}/messages", "POST", fmt.Sprintf("%s/community/channels/%d/messages", base, channel), u.Token, body, s, nil)
		}},
		{every: r.cfg.Mix.DM, do: func(s time.Time) {
			if thread.Load() == 0 {
				var th struct{ ID int64 }
				r.call(ctx, "POST /api/messages/threads", "POST", base+"/messages/threads", u.Token, map[string]int64{"userId": neighbour}, s, &th)
				thread.Store(th.ID)
			}
			if id := thread.Load(); id != 0 {
				r.call(ctx, "POST /api/messages/threads/{id}/messages", "POST", fmt.Sprintf("%s/messages/threads/%d/messages", base, id), u.Token, map[string]string{"body": "hi neighbour"}, s, nil)
			}
		}},
		{every: r.cfg.Mix.Profile, do: func(s time.Time) {
			other := r.prep.Users[rand.IntN(r.cfg.Users)].ID
			r.call(ctx, "GET /api/users/{id}", "GET", fmt.Sprintf("%s/users/%d", base, other), u.Token, nil, s, nil)
		}},
		{every: r.cfg.Mix.Shouts, do: func(s time.Time) {
			r.call(ctx, "GET /api/shouts", "GET", base+"/shouts?limit=20", u.Token, nil, s, nil)
		}},
		{every: r.cfg.Mix.Me, do: func(s time.Time) {
			r.call(ctx, "GET /api/users/me", "GET", base+"/users/me", u.Token, nil, s, nil)
		}},
		{every: r.cfg.Mix.Events, do: func(s time.Time) {
			r.call(ctx, "GET /api/events", "GET", base+"/events", u.Token, nil, s, nil)
		}},
		{every: r.cfg.Mix.NowPlaying, do: func(s time.Time) {
			r.call(ctx, "GET /api/live/now-playing", "GET", base+"/live/now-playing", u.Token, nil, s, nil)
		}},
		{every: r.cfg.Mix.Leaderboard, do: func(s time.Time) {
			r.call(ctx, "GET /api/leaderboard", "GET", base+"/leaderboard?around=me", u.Token, nil, s, nil)
		}},
	}
	if len(r.prep.Courses) > 0 {
		acts = append(acts, &action{every: r.cfg.Mix.Courses, do: func(s time.Time) {
			r.call(ctx, "GET /api/courses", "GET", base+"/courses", u.Token, nil, s, nil)
		}}, &action{every: r.cfg.Mix.Course, do: func(s time.Time) {
			id := r.prep.Courses[rand.IntN(len(r.prep.Courses))]
			r.call(ctx, "GET /api/courses/{id}", "GET", fmt.Sprintf("%s/courses/%d", base, id), u.Token, nil, s, nil)
		}})
	}
	if len(r.prep.Mixes) > 0 {
		acts = append(acts, &action{every: r.cfg.Mix.Mixes, do: func(s time.Time) {
			r.call(ctx, "GET /api/mixes", "GET", base+"/mixes?sort=popular&limit=20", u.Token, nil, s, nil)
		}}, &action{every: r.cfg.Mix.Play, do: func(s time.Time) {
			id := r.prep.Mixes[rand.IntN(len(r.prep.Mixes))]
			r.call(ctx, "POST /api/mixes/{id}/plays", "POST", fmt.Sprintf("%s/mixes/%d/plays", base, id), u.Token, nil, s, nil)
		}})
	}
	// Each action runs on its own timer, which fires it (in a goroutine of
	// its own: open loop) and sets itself for the next one. No goroutine
	// waits per user between actions: with one per user, the garbage
	// collector shrank 10,000 parked stacks every cycle and each woke to
	// grow its stack again, the largest part of the generator's CPU.
	now := time.Now()
	for _, a := range acts {
		if a.every > 0 {
			a.start(ctx, now)
		}
	}
	context.AfterFunc(ctx, func() {
		for _, a := range acts {
			a.stop()
		}
		ws.close()
	})
	// This goroutine is the socket's reader; it returns once the run is
	// over and the socket closed (or it could not reconnect).
	ws.read(ctx)
}

// action is one thing a user does every so often.
type action struct {
	every time.Duration
	do    func(sched time.Time)
	next  time.Time   // when it is due; only the timer's function reads or sets it once started
	timer *time.Timer // fires it at next
}

func (a *action) start(ctx context.Context, now time.Time) {
	a.next = now.Add(expo(a.every))
	a.timer = time.AfterFunc(time.Hour, func() { a.fire(ctx) }) // set before it can fire
	a.timer.Reset(time.Until(a.next))
}

// fire runs the action due at a.next and sets the timer for the next one,
// drawn from when this one was due, not from now: a generator slowed down
// catches up instead of offering less.
func (a *action) fire(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	sched := a.next
	a.next = sched.Add(expo(a.every))
	a.timer.Reset(time.Until(a.next))
	a.do(sched)
}

func (a *action) stop() {
	if a.timer != nil {
		a.timer.Stop()
	}
}

// expo draws an exponentially distributed interval of the given mean.
func expo(mean time.Duration) time.Duration {
	return time.Duration(-math.Log(1-rand.Float64()) * float64(mean))
}

// socket is a user's WebSocket. It checks that every room's seqs arrive in
// order without gaps, and reconnects with since after an unexpected close.
// It runs on gws, like the server: an event-driven reader without a context
// per read, so the generator spends its share of the machine on users, not
// on its own plumbing.
type socket struct {
	gws.BuiltinEventHandler // answers pings
	r                       *run
	url                     string
	rooms                   []string
	shard                   *histShard
	mu                      sync.Mutex
	c                       *gws.Conn
	seqs                    map[string]int64
}

func (s *socket) connect(ctx context.Context) bool {
	start := time.Now()
	c, _, err := gws.NewClient(s, &gws.ClientOption{Addr: s.url, ReadMaxPayloadSize: 1 << 20, HandshakeTimeout: 20 * time.Second})
	if err != nil {
		if ctx.Err() == nil {
			s.r.connectFails.Add(1)
		}
		return false
	}
	s.mu.Lock()
	s.c = c
	for _, room := range s.rooms {
		c.WriteMessage(gws.OpcodeText, s.subscribeFrame(room))
	}
	s.mu.Unlock()
	s.r.connMu.Lock()
	s.r.connects.RecordValue(time.Since(start).Microseconds())
	s.r.connMu.Unlock()
	s.r.connected.Add(1)
	return true
}

// subscribeFrame asks for room from the last seq seen in it, if any. s.mu
// is held.
func (s *socket) subscribeFrame(room string) []byte {
	m := map[string]any{"op": "subscribe", "room": room}
	if last, ok := s.seqs[room]; ok {
		m["since"] = last
	}
	b, _ := json.Marshal(m)
	return b
}

func (s *socket) resubscribe(room string) {
	s.mu.Lock()
	c, frame := s.c, s.subscribeFrame(room)
	s.mu.Unlock()
	if c != nil {
		c.WriteMessage(gws.OpcodeText, frame)
	}
}

func (s *socket) send(frame string) {
	s.mu.Lock()
	c := s.c
	s.mu.Unlock()
	if c != nil {
		c.WriteString(frame)
	}
}

func (s *socket) close() {
	s.mu.Lock()
	if s.c != nil {
		s.c.WriteClose(1000, []byte("load test over"))
		s.c.NetConn().Close()
	}
	s.mu.Unlock()
}

// read runs the connection until it ends; after an unexpected end it
// reconnects (resubscribing with since) until the run is over.
func (s *socket) read(ctx context.Context) {
	for {
		s.mu.Lock()
		c := s.c
		s.mu.Unlock()
		c.ReadLoop()
		if ctx.Err() != nil {
			return
		}
		s.r.disconnects.Add(1)
		s.r.connected.Add(-1)
		if !s.connect(ctx) {
			return
		}
	}
}

// ephemeral reports whether b is an event frame without a seq (typing,
// presence), from its head alone: the server writes every event frame as
// {"op":"event","room":"<room>","seq":<n>,... and room names hold no
// quote or escape.
func ephemeral(b []byte) bool {
	const head = `{"op":"event","room":"`
	if !bytes.HasPrefix(b, []byte(head)) {
		return false
	}
	end := bytes.IndexByte(b[len(head):], '"')
	return end >= 0 && bytes.HasPrefix(b[len(head)+end+1:], []byte(`,"seq":0,`))
}

// OnMessage checks a frame's seq and records delivery latency.
func (s *socket) OnMessage(_ *gws.Conn, m *gws.Message) {
	defer m.Close()
	s.r.frames.Add(1)
	now := time.Now().UnixNano()
	b := m.Bytes()
	if ephemeral(b) {
		return // typing, presence: nothing to check, and most of the frames
	}
	f, ok := parseEvent(b)
	if !ok {
		var full frame
		if json.Unmarshal(b, &full) != nil {
			return
		}
		f = eventOf(full)
	}
	switch {
	case f.op == "error" && f.code == "unavailable" && f.room != "":
		// The server could not read the room's history just then; like a
		// real client, ask again shortly, from the last seq seen.
		time.AfterFunc(time.Second, func() { s.resubscribe(f.room) })
	case f.op == "resync":
		// The server could not replay what this room missed; a real client
		// refetches it by REST. Counted, and the seqs start afresh.
		s.r.resyncs.Add(1)
		s.mu.Lock()
		delete(s.seqs, f.room)
		s.mu.Unlock()
	case f.op == "subscribed":
		s.mu.Lock()
		if _, ok := s.seqs[f.room]; !ok {
			s.seqs[f.room] = f.seq
		}
		s.mu.Unlock()
	case f.op == "event" && f.seq > 0:
		s.mu.Lock()
		last, known := s.seqs[f.room]
		switch {
		case !known:
		case f.seq == last:
			s.r.duplicates.Add(1)
		case f.seq < last:
			s.r.outOfOrder.Add(1)
		case f.seq > last+1:
			s.r.gaps.Add(f.seq - last - 1)
		}
		if f.seq > last {
			s.seqs[f.room] = f.seq
		}
		s.mu.Unlock()
		if f.sent != 0 {
			s.r.deliveries.Add(1)
			s.shard.mu.Lock()
			s.shard.hist.RecordValue((now - f.sent) / 1000)
			if s.r.steady(f.sent) {
				s.shard.steady.RecordValue((now - f.sent) / 1000)
			}
			s.shard.mu.Unlock()
		}
	}
}

func (r *run) progress(ctx context.Context, done chan struct{}) {
	if r.cfg.Progress == nil {
		return
	}
	t := time.NewTicker(r.cfg.ProgressEvery)
	defer t.Stop()
	var lastReq int64
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		r.mu.Lock()
		var reqs, errs, limited int64
		all := newHist()
		for _, rt := range r.routes {
			reqs += rt.count
			errs += rt.errs
			limited += rt.l429
			all.Merge(rt.hist)
		}
		r.mu.Unlock()
		fmt.Fprintf(r.cfg.Progress, "[%5.0fs] users %d/%d connected, %.0f req/s, p95 %.1f ms, errors %d, 429 %d, deliveries %d (p99 %.1f ms), gaps %d\n",
			time.Since(r.start).Seconds(), r.connected.Load(), r.cfg.Users, float64(reqs-lastReq)/r.cfg.ProgressEvery.Seconds(),
			float64(all.ValueAtQuantile(95))/1000, errs, limited, r.deliveries.Load(), r.deliveryQuantile(99), r.gaps.Load())
		lastReq = reqs
	}
}

// deliveryHists merges the shards: the whole run, and the steady state.
func (r *run) deliveryHists() (all, steady *hdrhistogram.Histogram) {
	all, steady = newHist(), newHist()
	for i := range r.shards {
		r.shards[i].mu.Lock()
		all.Merge(r.shards[i].hist)
		steady.Merge(r.shards[i].steady)
		r.shards[i].mu.Unlock()
	}
	return all, steady
}

func (r *run) deliveryQuantile(q float64) float64 {
	all, _ := r.deliveryHists()
	return float64(all.ValueAtQuantile(q)) / 1000
}

// metrics are what a target's /metrics says about the process.
type metrics struct {
	CPUSeconds float64 `json:"cpuSeconds"`
	Requests   float64 `json:"requests"`  // plaza_http_requests_total, summed over its labels
	Delivered  float64 `json:"delivered"` // plaza_ws_delivered_total: event frames queued to subscribers
	Writes     float64 `json:"writes"`    // plaza_ws_writes_total: socket writes to WebSockets
	RSSBytes   float64 `json:"rssBytes"`
	Goroutines float64 `json:"goroutines"`
	WSConns    float64 `json:"wsConnections"`
	OpenFDs    float64 `json:"openFds"`
	Err        string  `json:"-"` // why /metrics could not be read
}

func scrapeAll(targets []string, token string) []metrics {
	out := make([]metrics, len(targets))
	for i, t := range targets {
		out[i] = scrape(t, token)
	}
	return out
}

// scrape reads a target's /metrics, with the metrics token when there is
// one (on the API port, /metrics answers only to it).
func scrape(target, token string) metrics {
	var m metrics
	req, err := http.NewRequest("GET", target+"/metrics", nil)
	if err != nil {
		m.Err = err.Error()
		return m
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		m.Err = err.Error()
		return m
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		m.Err = res.Status
		if token == "" {
			m.Err += "; set PLAZA_METRICS_TOKEN to the servers' metrics token"
		}
		return m
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		sp := strings.LastIndexByte(line, ' ')
		if sp <= 0 || line[0] == '#' {
			continue
		}
		name, val := line[:sp], line[sp+1:]
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		if base, _, labelled := strings.Cut(name, "{"); labelled {
			if base == "plaza_http_requests_total" {
				m.Requests += v
			}
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			m.CPUSeconds = v
		case "plaza_http_requests_total":
			m.Requests += v
		case "plaza_ws_delivered_total":
			m.Delivered = v
		case "plaza_ws_writes_total":
			m.Writes = v
		case "process_resident_memory_bytes":
			m.RSSBytes = v
		case "go_goroutines":
			m.Goroutines = v
		case "plaza_ws_connections":
			m.WSConns = v
		case "process_open_fds":
			m.OpenFDs = v
		}
	}
	return m
}

// CheckTargets makes sure each target answers and knows the prepared
// users (one signed-in request per target) before any load is sent: users
// prepared in another database would otherwise show up as a run of 401s.
func CheckTargets(ctx context.Context, targets []string, p Prepared) error {
	if len(p.Users) == 0 || len(p.Channels) == 0 {
		return fmt.Errorf("loadtest: no prepared users or channels")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for i, t := range targets {
		u := p.Users[i%len(p.Users)]
		req, err := http.NewRequestWithContext(ctx, "GET", t+"/api/users/me", nil)
		if err != nil {
			return fmt.Errorf("loadtest: --target %s: %w", t, err)
		}
		req.Header.Set("Authorization", "Bearer "+u.Token)
		res, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("loadtest: --target %s does not answer: %w", t, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusUnauthorized:
			return fmt.Errorf("loadtest: %s does not know the prepared users (401): it uses another database, or the sessions expired; "+
				"prepare with the servers' DATABASE_URL or PLAZA_DATA_DIR", t)
		case res.StatusCode != http.StatusOK:
			return fmt.Errorf("loadtest: %s answered %s to GET /api/users/me", t, res.Status)
		}
	}
	return nil
}

// sortedRoutes lists route names in a stable order.
func (r *run) sortedRoutes() []string {
	var names []string
	for n := range r.routes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
