package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/gamification"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

// TestLeaderboardReadFigures measures GET /api/leaderboard?limit=50&around=me
// beside a bare net/http handler in the same run, alternating, medians of
// 3 rounds: PLAZA_BENCH=1 go test ./internal/httpapi -run TestLeaderboardReadFigures -v
func TestLeaderboardReadFigures(t *testing.T) {
	if os.Getenv("PLAZA_BENCH") == "" {
		t.Skip("PLAZA_BENCH not set")
	}
	db := sqldbtest.OpenSQLite(t, sqldb.Config{})
	e := newEnv(t, db, withEnv("PLAZA_RATE_API", "off"))
	tok, me := e.signup("reader")
	var ids []int64
	for i := range 300 {
		u, err := sqlstore.NewAccounts(db).CreateUser(context.Background(), account.NewUser{Email: fmt.Sprintf("fig%d@example.com", i),
			Username: fmt.Sprintf("fig_user%d", i), PasswordHash: "h", Role: account.RoleUser}, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	xp := sqlstore.NewXP(db, nil)
	for i, id := range append(ids, me.ID) {
		if _, err := xp.Award(context.Background(), time.Now(), gamification.Award{UserID: id, Amount: int64(i*37%500 + 1), Reason: gamification.ReasonAdjustment, Ref: "fig"}); err != nil {
			t.Fatal(err)
		}
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer bare.Close()
	measure := func(url, token string) (float64, time.Duration, time.Duration) {
		const clients, per = 8, 400
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Go(func() {
				var mine []time.Duration
				for range per {
					req, _ := http.NewRequest("GET", url, nil)
					if token != "" {
						req.Header.Set("Authorization", "Bearer "+token)
					}
					s := time.Now()
					res, err := http.DefaultClient.Do(req)
					if err != nil || res.StatusCode != 200 {
						t.Errorf("%s: %v %v", url, err, res)
						return
					}
					var buf [4096]byte
					for {
						if _, err := res.Body.Read(buf[:]); err != nil {
							break
						}
					}
					res.Body.Close()
					mine = append(mine, time.Since(s))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		rps := float64(len(lat)) / time.Since(start).Seconds()
		slices.Sort(lat)
		return rps, lat[len(lat)/2], lat[len(lat)*99/100]
	}
	var ratios []float64
	for round := range 3 {
		brps, b50, b99 := measure(bare.URL, "")
		lrps, l50, l99 := measure(e.srv.URL+"/api/leaderboard?limit=50&around=me", tok)
		ratios = append(ratios, lrps/brps)
		fmt.Printf("round %d: bare %.0f req/s p50 %v p99 %v | leaderboard %.0f req/s p50 %v p99 %v | ratio %.2f\n",
			round+1, brps, b50, b99, lrps, l50, l99, lrps/brps)
	}
	slices.Sort(ratios)
	fmt.Printf("median ratio leaderboard/bare: %.2f\n", ratios[1])
}
