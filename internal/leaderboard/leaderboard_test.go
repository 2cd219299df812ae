package leaderboard_test

import (
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/leaderboard"
	"github.com/plazahq/plaza/internal/leaderboard/leaderboardtest"
	"github.com/plazahq/plaza/internal/redisx/redistest"
)

func TestMemoryConformance(t *testing.T) {
	leaderboardtest.Run(t, func(t *testing.T, now time.Time) leaderboard.Index { return leaderboard.NewMemory(now) })
}

func TestRedisConformance(t *testing.T) {
	redistest.URL(t)
	leaderboardtest.Run(t, func(t *testing.T, now time.Time) leaderboard.Index {
		c, prefix := redistest.Open(t)
		return leaderboard.NewRedis(c, prefix)
	})
}
