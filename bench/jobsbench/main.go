// Command jobsbench measures the job queue:
//
//	jobsbench throughput [--mysql URL] [--jobs 20000] [--workers 8] [--procs 2]
//	    no-op jobs per second through enqueue, claim and complete, with the
//	    workers in --procs separate processes (SQLite unless --mysql)
//	jobsbench latency [--mysql URL] [--redis URL] [--jobs 200] [--interval 20ms]
//	    time from enqueue on one queue (instance) to the start of the job on
//	    another, with Redis wake-ups if --redis is given, else polling
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/plazahq/plaza/bench/internal/benchkit"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/redisx"
	"github.com/plazahq/plaza/internal/sqldb"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: jobsbench throughput|latency|worker [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "throughput":
		err = throughput(os.Args[2:])
	case "latency":
		err = latency(os.Args[2:])
	case "worker":
		err = worker(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "jobsbench:", err)
		os.Exit(1)
	}
}

func noop() jobs.Kind {
	return jobs.Kind{Name: "noop", Handle: func(context.Context, jobs.Job) error { return nil }}
}

func throughput(args []string) error {
	fs := flag.NewFlagSet("throughput", flag.ExitOnError)
	mysql := fs.String("mysql", "", "MySQL/MariaDB server URL; empty: SQLite")
	n := fs.Int("jobs", 20000, "jobs")
	workers := fs.Int("workers", 8, "workers per process")
	procs := fs.Int("procs", 1, "worker processes")
	fs.Parse(args)
	ctx := context.Background()
	scratch, err := benchkit.NewScratch(ctx, *mysql, sqldb.Config{PoolSize: 16})
	if err != nil {
		return err
	}
	defer scratch.Close()
	db, dir, url := scratch.DB, scratch.Dir, scratch.URL
	q := jobs.NewQueue(db, jobs.Config{}, nil, benchkit.Quiet)

	start := time.Now()
	batch := make([]jobs.Job, 0, 500)
	for i := range *n {
		batch = append(batch, jobs.Must("noop", i))
		if len(batch) == cap(batch) || i == *n-1 {
			if err := q.Enqueue(ctx, batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	enqueued := time.Since(start)

	var cmds []*exec.Cmd
	for range *procs {
		cmd := exec.Command(os.Args[0], "worker", "--dir", dir, "--url", url, "--workers", strconv.Itoa(*workers))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		cmds = append(cmds, cmd)
	}
	defer func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}()
	work := time.Now()
	for {
		var done int
		if err := db.Read().QueryRow(ctx, []any{&done}, `SELECT COUNT(*) FROM jobs WHERE state = 'completed'`); err != nil {
			return err
		}
		if done == *n {
			break
		}
		if time.Since(work) > 10*time.Minute {
			return fmt.Errorf("%d of %d done after 10 minutes", done, *n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	worked := time.Since(work)
	fmt.Printf("%s: %d no-op jobs; enqueue %.0f jobs/s (batches of 500); claim+run+complete with %d process(es) x %d workers: %.0f jobs/s; end to end %.0f jobs/s\n",
		scratch.Engine, *n, float64(*n)/enqueued.Seconds(), *procs, *workers, float64(*n)/worked.Seconds(), float64(*n)/(enqueued+worked).Seconds())
	return nil
}

// worker runs no-op jobs until killed (a child of throughput).
func worker(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	dir := fs.String("dir", "", "SQLite dir")
	url := fs.String("url", "", "MySQL URL")
	workers := fs.Int("workers", 8, "workers")
	fs.Parse(args)
	db, err := sqldb.Open(context.Background(), sqldb.Config{DataDir: *dir, URL: *url, PoolSize: *workers + 4})
	if err != nil {
		return err
	}
	q := jobs.NewQueue(db, jobs.Config{Workers: *workers, PollInterval: 50 * time.Millisecond}, nil, benchkit.Quiet)
	q.Register(noop())
	q.Start()
	select {}
}

func latency(args []string) error {
	fs := flag.NewFlagSet("latency", flag.ExitOnError)
	mysql := fs.String("mysql", "", "MySQL/MariaDB server URL; empty: SQLite")
	redisURL := fs.String("redis", "", "Redis URL for wake-ups; empty: polling")
	n := fs.Int("jobs", 200, "jobs")
	interval := fs.Duration("interval", 20*time.Millisecond, "between enqueues")
	poll := fs.Duration("poll", time.Second, "workers' poll interval (PLAZA_JOB_POLL)")
	fs.Parse(args)
	ctx := context.Background()
	scratch, err := benchkit.NewScratch(ctx, *mysql, sqldb.Config{PoolSize: 16})
	if err != nil {
		return err
	}
	defer scratch.Close()
	db := scratch.DB
	var wakerA, wakerB jobs.Waker
	if *redisURL != "" {
		rc, err := redisx.Open(ctx, *redisURL)
		if err != nil {
			return err
		}
		defer rc.Close()
		prefix := fmt.Sprintf("plaza-jobsbench-%d:", time.Now().UnixNano())
		wakerA, wakerB = jobs.NewRedisWaker(rc, prefix), jobs.NewRedisWaker(rc, prefix)
	}
	// Instance A only enqueues; instance B runs the jobs.
	a := jobs.NewQueue(db, jobs.Config{}, wakerA, benchkit.Quiet)
	b := jobs.NewQueue(db, jobs.Config{Workers: 4, PollInterval: *poll}, wakerB, benchkit.Quiet)
	hist := hdrhistogram.New(1, 60_000_000, 3)
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(*n)
	b.Register(jobs.Kind{Name: "stamp", Handle: func(_ context.Context, j jobs.Job) error {
		var sent int64
		json.Unmarshal(j.Payload, &sent)
		mu.Lock()
		hist.RecordValue((time.Now().UnixNano() - sent) / 1000)
		mu.Unlock()
		wg.Done()
		return nil
	}})
	b.Start()
	defer b.Stop(ctx)
	time.Sleep(200 * time.Millisecond) // B's subscription settles
	for range *n {
		if err := a.Enqueue(ctx, jobs.Must("stamp", time.Now().UnixNano())); err != nil {
			return err
		}
		time.Sleep(*interval)
	}
	wg.Wait()
	mode := "polling every " + poll.String()
	if *redisURL != "" {
		mode = "Redis wake-ups"
	}
	fmt.Printf("%s, %s: enqueue on instance A -> start on instance B: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d jobs)\n",
		scratch.Engine, mode, float64(hist.ValueAtQuantile(50))/1000, float64(hist.ValueAtQuantile(99))/1000, float64(hist.Max())/1000, *n)
	return nil
}
