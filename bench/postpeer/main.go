// Command postpeer measures a message post on Plaza side by side with a
// record create on PocketBase, both running on this machine as separate
// processes (SQLite each, loopback), under the same closed-loop load: C
// keep-alive clients, each sending its next post when the previous answer
// arrives, for D seconds, the same body on both. Rounds alternate between
// the two servers (the order swaps every round) and each round reports
// posts/s, p50/p99 latency, errors by kind (a 429 is an error, never
// retried) and the server's CPU per post, read from /proc/PID/stat before
// the round and after it has settled.
//
//	postpeer --plaza http://127.0.0.1:19401 --plaza-pid PID --plaza-prepared lt.json \
//	         --pb http://127.0.0.1:19402 --pb-pid PID --pb-email E --pb-password P \
//	         [--pb-auth superuser|users] [--clients 16,64] [--duration 10s] [--rounds 3]
//
// Plaza's users and channel come from `plaza loadtest prepare --users N
// --channels 1 --out lt.json` (client c posts as user c mod N into the
// first channel). On PocketBase the driver signs in as the superuser
// (`base superuser upsert E P`), creates the collection `messages`
// (fields channel and body, text) unless it exists, and creates records with
// POST /api/collections/messages/records; with --pb-auth users it also
// creates one regular user per client in the built-in users collection and
// posts as them, through the collection's create rule. scripts/postpeer.sh
// builds and starts both servers and runs this.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/plazahq/plaza/bench/internal/benchkit"
	"github.com/plazahq/plaza/internal/loadgen"
	"github.com/plazahq/plaza/internal/loadtest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "postpeer:", err)
		os.Exit(1)
	}
}

// server is one side of the comparison: where to post, as whom, and the
// process whose CPU is read.
type server struct {
	name string
	pid  int
	// request builds client c's post of body.
	request func(c int, body string) (*http.Request, error)
}

// round is one measured run of one server at one concurrency.
type round struct {
	Server       string  `json:"server"`
	Clients      int     `json:"clients"`
	Round        int     `json:"round"`
	Posts        int64   `json:"posts"`
	Errors       int64   `json:"errors"`
	ErrorKinds   string  `json:"errorKinds,omitempty"`
	PostsPerSec  float64 `json:"postsPerSec"`
	P50ms        float64 `json:"p50ms"`
	P99ms        float64 `json:"p99ms"`
	CPUSeconds   float64 `json:"serverCpuSeconds"`
	CPUPerPostUs float64 `json:"serverCpuPerPostUs"`
	ServerCores  float64 `json:"serverCores"`
	Load1        string  `json:"loadavg"`
}

func run() error {
	plazaURL := flag.String("plaza", "", "Plaza's base URL")
	plazaPID := flag.Int("plaza-pid", 0, "Plaza's process id, for its CPU")
	prepared := flag.String("plaza-prepared", "", "file written by 'plaza loadtest prepare' (users with sessions, channels)")
	rotate := flag.Bool("plaza-rotate", false, "post as every prepared user in turn rather than client c as user c: with enough users each stays under the daily XP cap, so every post awards XP")
	pbURL := flag.String("pb", "", "PocketBase's base URL")
	pbPID := flag.Int("pb-pid", 0, "PocketBase's process id, for its CPU")
	pbEmail := flag.String("pb-email", "", "PocketBase superuser email")
	pbPassword := flag.String("pb-password", "", "PocketBase superuser password")
	pbAuth := flag.String("pb-auth", "superuser", "who posts on PocketBase: superuser, or users (one regular user per client, through the create rule)")
	clientsFlag := flag.String("clients", "16,64", "concurrent closed-loop clients, a comma-separated list")
	duration := flag.Duration("duration", 10*time.Second, "length of each round")
	rounds := flag.Int("rounds", 3, "rounds of each server at each concurrency")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured load on each server before its first round at each concurrency")
	settle := flag.Duration("settle", time.Second, "wait after a round before reading the server's CPU (work the posts left behind counts)")
	bodyBytes := flag.Int("body-bytes", 120, "length of each message body")
	pbLogs := flag.Bool("pb-request-logs", true, "leave PocketBase's request log on (its default); false sets logs.maxDays to 0 through its settings API")
	only := flag.String("only", "", "drive only this server (plaza or pocketbase), e.g. while profiling it")
	jsonOut := flag.String("json", "", "also write every round as JSON to this file")
	flag.Parse()
	if *plazaURL == "" || *pbURL == "" || *prepared == "" || *plazaPID == 0 || *pbPID == 0 {
		return fmt.Errorf("--plaza, --plaza-pid, --plaza-prepared, --pb and --pb-pid are required")
	}
	var concurrency []int
	for _, s := range strings.Split(*clientsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("--clients: %q is not a positive number", s)
		}
		concurrency = append(concurrency, n)
	}
	maxClients := slices.Max(concurrency)
	for _, pid := range []int{*plazaPID, *pbPID} {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", pid)); err != nil {
			return fmt.Errorf("no process %d to read the CPU of: %w", pid, err)
		}
	}

	plaza, err := plazaServer(strings.TrimRight(*plazaURL, "/"), *plazaPID, *prepared, *rotate)
	if err != nil {
		return err
	}
	pb, err := pocketBase(strings.TrimRight(*pbURL, "/"), *pbPID, *pbEmail, *pbPassword, *pbAuth, *pbLogs, maxClients)
	if err != nil {
		return err
	}
	servers := []server{plaza, pb}
	switch *only {
	case "":
	case "plaza":
		servers = servers[:1]
	case "pocketbase":
		servers = servers[1:]
	default:
		return fmt.Errorf("--only must be plaza or pocketbase, not %q", *only)
	}
	for _, s := range servers { // one post each: the setup works before anything is measured
		if err := postOnce(s, messageBody(0, 0, *bodyBytes)); err != nil {
			return err
		}
	}
	idle := map[string]float64{}
	for _, s := range servers {
		t0, at := benchkit.CPUTicks(s.pid), time.Now()
		time.Sleep(2 * time.Second)
		idle[s.name] = float64(benchkit.CPUTicks(s.pid)-t0) / 100 / time.Since(at).Seconds()
	}

	fmt.Printf("postpeer: %d rounds x %s per server at %v clients, %d-byte bodies, warm-up %s, settle %s; PocketBase posts as %s\n",
		*rounds, *duration, concurrency, *bodyBytes, *warmup, *settle, *pbAuth)
	fmt.Printf("idle server CPU before the rounds: plaza %.3f cores, pocketbase %.3f cores; PocketBase request log on: %v\n", idle["plaza"], idle["pocketbase"], *pbLogs)
	ctx := context.Background()
	var all []round
	for _, c := range concurrency {
		for _, s := range servers {
			measure(ctx, s, c, *warmup, 0, *bodyBytes)
		}
		for r := 1; r <= *rounds; r++ {
			order := slices.Clone(servers)
			if r%2 == 0 {
				slices.Reverse(order)
			}
			for _, s := range order {
				time.Sleep(*settle)
				res := measure(ctx, s, c, *duration, *settle, *bodyBytes)
				res.Round = r
				all = append(all, res)
				fmt.Printf("  c=%-3d round %d %-10s %7.0f posts/s  errors %d  p50 %6.2f ms  p99 %7.2f ms  server %4.0f µs CPU/post (%.2f cores)  load %s%s\n",
					c, r, s.name, res.PostsPerSec, res.Errors, res.P50ms, res.P99ms, res.CPUPerPostUs, res.ServerCores, res.Load1, kinds(res))
			}
		}
	}
	report(all, concurrency)
	if *jsonOut != "" {
		b, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(*jsonOut, b, 0o644)
	}
	return nil
}

func kinds(r round) string {
	if r.Errors == 0 {
		return ""
	}
	return "  [" + r.ErrorKinds + "]"
}

// measure drives s with c clients for d and reads its CPU around the run;
// settle > 0 waits that long after the load before the second reading.
func measure(ctx context.Context, s server, c int, d, settle time.Duration, bodyBytes int) round {
	client := loadgen.NewClient(c)
	defer client.CloseIdleConnections()
	seq := make([]int, c)
	cpu0 := benchkit.CPUTicks(s.pid)
	res := loadgen.Run(ctx, client, loadgen.Config{Clients: c, Duration: d, Request: func(i int) (*http.Request, error) {
		seq[i]++
		return s.request(i, messageBody(i, seq[i], bodyBytes))
	}})
	time.Sleep(settle)
	cpu := float64(benchkit.CPUTicks(s.pid)-cpu0) / 100
	ok := res.Requests - res.Errors
	r := round{Server: s.name, Clients: c, Posts: ok, Errors: res.Errors, ErrorKinds: res.TopErrors(3),
		PostsPerSec: res.RPS(), P50ms: res.Quantile(50), P99ms: res.Quantile(99),
		CPUSeconds: cpu, ServerCores: cpu / res.Elapsed.Seconds(), Load1: loadavg()}
	if ok > 0 {
		r.CPUPerPostUs = cpu * 1e6 / float64(ok)
	}
	return r
}

// messageBody is client c's post n, exactly n bytes of plain words (no
// @mentions, so neither server does more than store and answer).
func messageBody(c, n, size int) string {
	b := []byte(fmt.Sprintf("client %d post %d: ", c, n))
	const words = "the set opened slow and built to a long warm groove before the drop "
	for i := 0; len(b) < size; i++ {
		b = append(b, words[i%len(words)])
	}
	return strings.TrimSpace(string(b[:size]))
}

func report(all []round, concurrency []int) {
	fmt.Println("\nmedians of the rounds (ratios are taken within each round, where the two ran back to back, then the median):")
	fmt.Println("| clients | server | posts/s | p50 ms | p99 ms | server CPU µs/post | errors |")
	fmt.Println("|---:|---|---:|---:|---:|---:|---:|")
	for _, c := range concurrency {
		for _, name := range []string{"plaza", "pocketbase"} {
			rs := pick(all, c, name)
			if len(rs) == 0 {
				continue
			}
			var errs int64
			for _, r := range rs {
				errs += r.Errors
			}
			fmt.Printf("| %d | %s | %.0f | %.2f | %.2f | %.0f | %d |\n", c, name,
				median(rs, func(r round) float64 { return r.PostsPerSec }),
				median(rs, func(r round) float64 { return r.P50ms }),
				median(rs, func(r round) float64 { return r.P99ms }),
				median(rs, func(r round) float64 { return r.CPUPerPostUs }), errs)
		}
	}
	fmt.Println("\n| clients | plaza / pocketbase posts/s (rounds) | pocketbase / plaza CPU per post (rounds) |")
	fmt.Println("|---:|---|---|")
	for _, c := range concurrency {
		p, b := pick(all, c, "plaza"), pick(all, c, "pocketbase")
		if len(p) == 0 || len(b) == 0 {
			continue
		}
		var tput, cpu []float64
		for i := range min(len(p), len(b)) {
			tput = append(tput, p[i].PostsPerSec/b[i].PostsPerSec)
			cpu = append(cpu, b[i].CPUPerPostUs/p[i].CPUPerPostUs)
		}
		fmt.Printf("| %d | **%.2fx** (%s) | **%.2fx** (%s) |\n", c, med(tput), list(tput), med(cpu), list(cpu))
	}
}

func pick(all []round, c int, name string) []round {
	var rs []round
	for _, r := range all {
		if r.Clients == c && r.Server == name {
			rs = append(rs, r)
		}
	}
	return rs
}

func median(rs []round, f func(round) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return med(v)
}

func med(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

func list(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strings.Join(s, " ")
}

// plazaServer posts to the first prepared channel, client c as user c mod
// N, or with rotate as each of the N users in turn.
func plazaServer(base string, pid int, prepared string, rotate bool) (server, error) {
	p, err := loadtest.Load(prepared)
	if err != nil {
		return server{}, err
	}
	var next atomic.Int64
	fmt.Printf("plaza: %d prepared users, rotate %v\n", len(p.Users), rotate)
	url := fmt.Sprintf("%s/api/community/channels/%d/messages", base, p.Channels[0])
	return server{name: "plaza", pid: pid, request: func(c int, body string) (*http.Request, error) {
		b, err := json.Marshal(map[string]string{"body": body})
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequest("POST", url, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		u := c
		if rotate {
			u = int(next.Add(1))
		}
		req.Header.Set("Authorization", "Bearer "+p.Users[u%len(p.Users)].Token)
		return req, nil
	}}, nil
}

// pocketBase signs in as the superuser, makes sure the messages collection
// exists and, with auth "users", makes one regular user per client.
func pocketBase(base string, pid int, email, password, auth string, requestLogs bool, clients int) (server, error) {
	if auth != "superuser" && auth != "users" {
		return server{}, fmt.Errorf("--pb-auth must be superuser or users, not %q", auth)
	}
	var login struct {
		Token string `json:"token"`
	}
	if err := call("POST", base+"/api/collections/_superusers/auth-with-password", "", map[string]string{"identity": email, "password": password}, &login, 200); err != nil {
		return server{}, fmt.Errorf("pocketbase superuser sign-in: %w", err)
	}
	admin := login.Token
	err := call("GET", base+"/api/collections/messages", admin, nil, nil, 200)
	if err != nil {
		// Authenticated users may create and read messages: the rule is
		// evaluated on every create made as a regular user.
		rule := `@request.auth.id != ""`
		collection := map[string]any{"name": "messages", "type": "base", "createRule": rule, "viewRule": rule, "listRule": rule,
			"fields": []map[string]any{{"name": "channel", "type": "text", "required": true}, {"name": "body", "type": "text", "required": true, "max": 4000}}}
		if err := call("POST", base+"/api/collections", admin, collection, nil, 200); err != nil {
			return server{}, fmt.Errorf("pocketbase: creating the messages collection: %w", err)
		}
	}
	if !requestLogs {
		if err := call("PATCH", base+"/api/settings", admin, map[string]any{"logs": map[string]any{"maxDays": 0}}, nil, 200); err != nil {
			return server{}, fmt.Errorf("pocketbase: turning the request log off: %w", err)
		}
	}
	tokens := []string{admin}
	if auth == "users" {
		tokens = nil
		run := time.Now().Format("0102150405")
		for i := range clients {
			user := map[string]any{"email": fmt.Sprintf("pp%s_%d@load.test", run, i), "password": "postpeer-pass-1", "passwordConfirm": "postpeer-pass-1", "verified": true}
			if err := call("POST", base+"/api/collections/users/records", admin, user, nil, 200); err != nil {
				return server{}, fmt.Errorf("pocketbase: creating user %d: %w", i, err)
			}
			if err := call("POST", base+"/api/collections/users/auth-with-password", "", map[string]string{"identity": user["email"].(string), "password": "postpeer-pass-1"}, &login, 200); err != nil {
				return server{}, fmt.Errorf("pocketbase: signing in user %d: %w", i, err)
			}
			tokens = append(tokens, login.Token)
		}
	}
	url := base + "/api/collections/messages/records"
	return server{name: "pocketbase", pid: pid, request: func(c int, body string) (*http.Request, error) {
		b, err := json.Marshal(map[string]string{"channel": "bench", "body": body})
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequest("POST", url, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", tokens[c%len(tokens)])
		return req, nil
	}}, nil
}

// postOnce sends one post and wants a 2xx.
func postOnce(s server, body string) error {
	req, err := s.request(0, body)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: first post: %w", s.name, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s: first post: %s %s", s.name, res.Status, b)
	}
	return nil
}

// call sends a JSON request with PocketBase's Authorization header and
// decodes the answer into out when it has the wanted status.
func call(method, url, token string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %s %s", method, url, res.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// loadavg is the machine's 1-minute load average when the round ended.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
