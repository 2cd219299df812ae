package httpapi

import (
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"syscall"

	"fmt"
	"github.com/klauspost/compress/gzip"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// messageList renders a page of 50 chat messages the way the channel
// message routes do: each with its author's display data embedded.
func messageList() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	// Every body is a fresh random sequence of words from a vocabulary of a
	// few hundred: less redundant than real chat, so the saving measured
	// here is a floor, not a flattering case.
	vocab := strings.Fields(`the a and to of in is it that for on with this was you i my at be so just
		what track mix set drop bass bpm beat tempo vocal remix live stream tonight friday weekend warehouse club
		festival course lesson eq filter reverb delay loop sample kick snare hat synth pad chord melody key
		transition blend cue deck vinyl controller mixer headphones monitor speaker crowd vibe energy sound
		love great amazing unreal smooth clean hard deep dark minimal techno house trance garage dubstep jungle
		drum breakbeat ambient disco funk soul jazz hiphop thanks please anyone someone everyone who why how
		when where which tracklist playlist profile feedback leaderboard xp level badge collectible event rsvp
		ticket lineup headliner opener closing b2b guest resident radio podcast episode upload download share
		listen play pause skip replay favorite followed new old classic fresh first second third last next
		minute hour night morning today tomorrow yesterday week month year time again still already really
		very pretty quite maybe probably definitely totally absolutely honestly literally basically actually
		can could should would will might must need want like know think feel see hear try make take give
		get go come start stop keep find learn teach practice improve finish begin ramp build tension release`)
	sentence := func() string {
		n := 6 + rng.IntN(18)
		words := make([]string, n)
		for i := range words {
			words[i] = vocab[rng.IntN(len(vocab))]
		}
		return strings.Join(words, " ") + fmt.Sprintf(" %d", rng.IntN(200))
	}
	type author struct {
		ID          int64  `json:"id"`
		Username    string `json:"username"`
		DisplayName string `json:"displayName"`
		AvatarURL   string `json:"avatarUrl"`
		Level       int    `json:"level"`
	}
	type message struct {
		ID        int64     `json:"id"`
		ChannelID int64     `json:"channelId"`
		Body      string    `json:"body"`
		CreatedAt time.Time `json:"createdAt"`
		EditedAt  *string   `json:"editedAt"`
		Author    author    `json:"author"`
	}
	var items []message
	t0 := time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC)
	for i := range 50 {
		a := rng.IntN(12) + 1
		items = append(items, message{
			ID: 90_000 + int64(i), ChannelID: 7, Body: sentence(),
			CreatedAt: t0.Add(time.Duration(i*37+rng.IntN(30)) * time.Second),
			Author: author{ID: int64(a), Username: fmt.Sprintf("dj_%d", a), DisplayName: fmt.Sprintf("DJ Number %d", a),
				AvatarURL: fmt.Sprintf("https://cdn.example.com/uploads/image/%02x/%064x.png", a*7, a*7919), Level: 1 + a%30},
		})
	}
	b, _ := json.Marshal(struct {
		Items      []message `json:"items"`
		NextCursor string    `json:"nextCursor"`
	}{items, "89950"})
	return b
}

// BenchmarkCompression50Messages reports, per encoding, the response size
// (bytes/resp, and % saved) and the server's CPU time per response.
func BenchmarkCompression50Messages(b *testing.B) {
	body := messageList()
	h, err := withCompression(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeRaw(w, 200, body) }))
	if err != nil {
		b.Fatal(err)
	}
	for _, enc := range []string{"identity", "gzip", "zstd", "deflate"} {
		b.Run(enc, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", enc)
			var size int
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				size = rec.Body.Len()
				if enc != "identity" && !strings.Contains(rec.Header().Get("Content-Encoding"), enc) {
					b.Fatalf("not %s: %v", enc, rec.Header())
				}
			}
			b.ReportMetric(float64(size), "bytes/resp")
			b.ReportMetric(100*(1-float64(size)/float64(len(body)+1)), "%saved")
		})
	}
}

// BenchmarkSharedGzipLevel is what compressing a shared body (the newest
// page, compressed again after every post: shared_body.go) costs at each
// gzip level, and what it saves. -2 is Huffman-only, -3 klauspost's
// stateless mode.
//
//	go test ./internal/httpapi -run '^$' -bench SharedGzipLevel -count 5
func BenchmarkSharedGzipLevel(b *testing.B) {
	body := messageList()
	for _, level := range []int{gzip.DefaultCompression, 1, 2, 3, 4, 6, gzip.HuffmanOnly, gzip.StatelessCompression} {
		b.Run(strconv.Itoa(level), func(b *testing.B) {
			var pool sync.Pool
			pool.New = func() any { zw, _ := gzip.NewWriterLevel(io.Discard, level); return zw }
			var size int
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				e := &sharedBody{body: body}
				size = len(e.gzipOf(&pool))
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(size), "bytes/resp")
			b.ReportMetric(100*(1-float64(size)/float64(len(body)+1)), "%saved")
		})
	}
}

// cpuTime is the CPU time this process has used (user and system, every
// goroutine's): on a machine others share, a steadier measure of work
// than the time a benchmark takes.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
