package sqldb

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite copies the pages its write-ahead log holds back into the database
// file in a checkpoint. Left to itself it runs one inside the commit that
// takes the log past 1,000 pages: that commit waits for the copy and two
// fsyncs, and under a steady stream of posts (each commit a few pages) it
// happened a dozen times a second, the same hot pages (the newest leaf of
// messages, of the ledger, of jobs) copied again each time: 4 % of the
// server's CPU in a post benchmark, nearly all of it fsync.
//
// Here a goroutine checkpoints once every checkpointEvery on a connection
// of its own, in PASSIVE mode: it never waits for the writer or the
// readers, and they never wait for it (SQLite lets a checkpoint run beside
// both). A page written many times in that second is copied once. The
// writer keeps an automatic checkpoint at walSafetyPages (80 MB of log) in
// case this one falls behind or fails.
const (
	checkpointEvery = time.Second
	walSafetyPages  = 20_000
)

// checkpointer runs the periodic checkpoints until stop.
type checkpointer struct {
	db      *sql.DB
	stop    chan struct{}
	done    sync.WaitGroup
	closing sync.Once
}

func startCheckpointer(db *sql.DB, every time.Duration) *checkpointer {
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, stop: make(chan struct{})}
	c.done.Add(1)
	go c.run(every)
	return c
}

func (c *checkpointer) run(every time.Duration) {
	defer c.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		// An error (the database busy in a way PASSIVE does not wait out,
		// or gone while closing) leaves the frames for the next tick or the
		// writer's safety checkpoint.
		_ = c.checkpoint()
	}
}

// checkpoint runs one PASSIVE checkpoint.
func (c *checkpointer) checkpoint() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var busy, logged, copied int64
	return c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logged, &copied)
}

// close stops the checkpoints and closes their connection; DB.Close may
// be called more than once, and so may this.
func (c *checkpointer) close() error {
	var err error
	c.closing.Do(func() {
		close(c.stop)
		c.done.Wait()
		err = c.db.Close()
	})
	return err
}
