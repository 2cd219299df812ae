// Package sqldb owns Plaza's connections to its SQL database: the embedded
// SQLite file (one writer connection plus a read pool, as PocketBase does) or
// MySQL/MariaDB with optional read replicas; the gated pools that bound how
// many requests may wait for a connection; the embedded migrations of each
// dialect; and the classification of engine errors.
package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Dialect names the SQL engine.
type Dialect string

// The supported engines.
const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// Config selects and tunes the engine.
type Config struct {
	DataDir         string   // SQLite file lives here when URL is empty
	URL             string   // mysql://user:pass@host:port/db?tls=...
	ReplicaURLs     []string // read replicas
	PoolSize        int
	QueueLimit      int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	ConnectTimeout  time.Duration // how long Open keeps trying to reach MySQL
	// QueryTimeout bounds every call through a Pool (a transaction counts
	// as one call), waiting for a connection included; 0: no bound.
	QueryTimeout time.Duration
}

// DB is the writer pool and the read pools.
type DB struct {
	Dialect Dialect
	writer  *Pool
	readers []*Pool // replicas, or SQLite's read pool; empty: read from writer
	next    atomic.Uint64
	ckpt    *checkpointer // SQLite: checkpoint.go

	writesOnce sync.Once
	writes     *Group // SQLite's one group committer (WriteGroup)
}

// Open connects to the engine the config names and checks it answers.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = 10
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.URL == "" {
		return openSQLite(ctx, cfg)
	}
	return openMySQL(ctx, cfg)
}

func openSQLite(ctx context.Context, cfg Config) (*DB, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("database: cannot create data dir %s: %w (check PLAZA_DATA_DIR)", cfg.DataDir, err)
	}
	path := filepath.Join(cfg.DataDir, "plaza.db")
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=journal_mode(WAL)&_time_format=sqlite"
	// temp_store(MEMORY): a group commit (group.go) runs each call in a
	// SAVEPOINT, and every page a call changes is first copied to the
	// statement journal, a temporary file by default: at 10,000 users
	// those pwrite calls were 4.5 % of the server's CPU. In memory the
	// copy is a memcpy; it lives as long as one transaction.
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint("+strconv.Itoa(walSafetyPages)+")")
	if err != nil {
		return nil, err
	}
	// One writer: SQLite serialises writers anyway, and queueing them here
	// rather than in its busy handler means writes never fail with "locked".
	writer := newPool("sqlite-writer", w, 1, cfg.QueueLimit, cfg.QueryTimeout)
	writer.hooks = true
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("database: cannot open %s: %w (check PLAZA_DATA_DIR)", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	c, err := sql.Open("sqlite", base)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	readers := max(cfg.PoolSize, runtime.GOMAXPROCS(0)*2)
	return &DB{Dialect: SQLite, writer: writer, readers: []*Pool{newPool("sqlite-reader", r, readers, cfg.QueueLimit, cfg.QueryTimeout)},
		ckpt: startCheckpointer(c, checkpointEvery)}, nil
}

func openMySQL(ctx context.Context, cfg Config) (*DB, error) {
	open := func(name, rawURL string) (*Pool, error) {
		dsn, err := MySQLDSN(rawURL)
		if err != nil {
			return nil, err
		}
		mc, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, err
		}
		conn, err := mysql.NewConnector(mc)
		if err != nil {
			return nil, err
		}
		db := sql.OpenDB(readCommitted{conn})
		db.SetConnMaxLifetime(cfg.ConnMaxLifetime)
		db.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
		p := newPool(name, db, cfg.PoolSize, cfg.QueueLimit, cfg.QueryTimeout)
		if err := pingUntil(ctx, db, cfg.ConnectTimeout); err != nil {
			db.Close()
			return nil, fmt.Errorf("database: cannot reach %s: %w (check that the server runs and %s is right)", redactURL(rawURL), err, map[bool]string{true: "DATABASE_URL", false: "DATABASE_REPLICA_URLS"}[name == "primary"])
		}
		return p, nil
	}
	writer, err := open("primary", cfg.URL)
	if err != nil {
		return nil, err
	}
	writer.hooks = true
	d := &DB{Dialect: MySQL, writer: writer}
	if err := checkBinlog(ctx, writer.db); err != nil {
		d.Close()
		return nil, err
	}
	for i, u := range cfg.ReplicaURLs {
		p, err := open(fmt.Sprintf("replica-%d", i+1), u)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.readers = append(d.readers, p)
	}
	return d, nil
}

func pingUntil(ctx context.Context, db *sql.DB, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		var me *mysql.MySQLError
		if errors.As(err, &me) && (me.Number == 1045 || me.Number == 1049) {
			return err // bad credentials or unknown database: waiting will not help
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// readCommitted runs every connection of a MySQL pool at READ COMMITTED
// rather than InnoDB's REPEATABLE READ, for two reasons:
//
//   - A plain read in a transaction sees the rows committed when that
//     statement began, not a snapshot taken at the transaction's first
//     read. Plaza's writes lock the row they guard (an XP award the
//     user's, a tip its wallets) and then read what that lock protects
//     (today's XP toward the daily cap). Under REPEATABLE READ such a
//     read could come from a snapshot older than the lock, taken by an
//     earlier call of a shared batch, and miss an award another batch
//     committed meanwhile: the cap was exceeded.
//   - Locking reads, UPDATEs and DELETEs lock the rows they find and no
//     gaps between them. Under REPEATABLE READ a post's statements locked
//     index ranges (the author's messages for the streak count, an
//     UPDATE that matched no streak row) and other users' inserts into
//     those ranges waited for the post's whole batch to commit: the two
//     instances' batches queued behind each other.
//
// What the stores need of the isolation level is said where they rely on
// it; none relies on a snapshot spanning several statements or on a gap
// lock keeping rows from appearing (uniqueness is the unique keys').
// Only duplicate-key checks and foreign keys still lock gaps.
type readCommitted struct{ driver.Connector }

func (c readCommitted) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.(driver.ExecerContext).ExecContext(ctx, `SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED`, nil); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// checkBinlog refuses a server that writes statement-based binary logs:
// InnoDB refuses every write at READ COMMITTED to such a log (error
// 1665). ROW (MySQL's default) and MIXED (MariaDB's) log it.
func checkBinlog(ctx context.Context, db *sql.DB) error {
	var on int
	var format string
	if err := db.QueryRowContext(ctx, `SELECT @@log_bin, @@binlog_format`).Scan(&on, &format); err != nil {
		return fmt.Errorf("database: cannot read the binary log's settings: %w", err)
	}
	if on == 1 && strings.EqualFold(format, "STATEMENT") {
		return errors.New("database: the server logs binlog_format=STATEMENT; Plaza writes at READ COMMITTED, which needs ROW or MIXED (set binlog_format=ROW)")
	}
	return nil
}

// MySQLDSN converts a mysql:// URL into go-sql-driver's DSN.
func MySQLDSN(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "mysql" || u.Host == "" {
		return "", fmt.Errorf("database: %q is not a mysql://user:pass@host:port/db URL", redactURL(rawURL))
	}
	c := mysql.NewConfig()
	c.Net = "tcp"
	c.Addr = u.Host
	if u.Port() == "" {
		c.Addr += ":3306"
	}
	c.User = u.User.Username()
	c.Passwd, _ = u.User.Password()
	c.DBName = strings.Trim(u.Path, "/")
	c.ParseTime = true         // goose's lock table uses DATETIME; Plaza's own times are BIGINT ms
	c.ClientFoundRows = true   // RowsAffected counts matched rows, as SQLite does
	c.InterpolateParams = true // one round trip per query instead of prepare+exec+close
	// The driver's socket timeouts are a backstop: request paths are bound
	// sooner by QueryTimeout (the driver closes a connection whose context
	// ends). They bound what has no deadline of its own, such as migrations,
	// and the URL may change them.
	c.Timeout = 5 * time.Second
	c.ReadTimeout = 30 * time.Second
	c.WriteTimeout = 30 * time.Second
	c.Params = map[string]string{"time_zone": "'+00:00'"}
	c.Collation = "utf8mb4_unicode_ci"
	for k, vs := range u.Query() {
		switch k {
		case "tls":
			c.TLSConfig = vs[0]
		case "timeout", "readTimeout", "writeTimeout":
			d, err := time.ParseDuration(vs[0])
			if err != nil || d < 0 {
				return "", fmt.Errorf("database: %s=%q in %s is not a duration such as 5s", k, vs[0], redactURL(rawURL))
			}
			switch k {
			case "timeout":
				c.Timeout = d
			case "readTimeout":
				c.ReadTimeout = d
			default:
				c.WriteTimeout = d
			}
		default:
			c.Params[k] = vs[0]
		}
	}
	return c.FormatDSN(), nil
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Write returns the pool for writes and reads that must see them.
func (d *DB) Write() *Pool { return d.writer }

// AfterCommit registers fn to run once tx commits (see Pool.AfterCommit),
// whichever of the pools runs it.
func (d *DB) AfterCommit(tx *sql.Tx, fn func()) error {
	for _, p := range append([]*Pool{d.writer}, d.readers...) {
		if err := p.AfterCommit(tx, fn); err == nil {
			return nil
		}
	}
	return ErrNotPoolTx
}

// Fresh returns a pool for reads that must see every committed write (a
// session just created, a row just changed): SQLite's read pool, which sees
// WAL commits at once, or the MySQL primary, never a lagging replica.
func (d *DB) Fresh() *Pool {
	if d.Dialect == SQLite {
		return d.readers[0]
	}
	return d.writer
}

// Read returns a pool for reads that tolerate replication lag.
func (d *DB) Read() *Pool {
	switch len(d.readers) {
	case 0:
		return d.writer
	case 1:
		return d.readers[0]
	}
	return d.readers[d.next.Add(1)%uint64(len(d.readers))]
}

// Stats returns the figures of every pool, writer first.
func (d *DB) Stats() []PoolStats {
	out := []PoolStats{d.writer.Stats()}
	for _, r := range d.readers {
		out = append(out, r.Stats())
	}
	return out
}

// Queries counts statements and transactions run on every pool since start.
func (d *DB) Queries() int64 {
	var n int64
	for _, p := range d.Stats() {
		n += p.Queries
	}
	return n
}

// Ping checks that the writer answers.
func (d *DB) Ping(ctx context.Context) error {
	ctx, cancel := d.writer.bound(ctx)
	defer cancel()
	if err := d.writer.acquire(ctx); err != nil {
		return err
	}
	defer d.writer.release()
	return classify(d.writer.db.PingContext(ctx))
}

// Close closes every pool.
func (d *DB) Close() error {
	var errs []error
	if d.ckpt != nil {
		errs = append(errs, d.ckpt.close())
	}
	for _, p := range append([]*Pool{d.writer}, d.readers...) {
		if p != nil {
			p.closeStmts()
			errs = append(errs, p.db.Close())
		}
	}
	return errors.Join(errs...)
}

//go:embed migrations
var migrations embed.FS

// Migrate applies every pending migration of the dialect. On MySQL a table
// lock keeps instances that start together from migrating twice.
func (d *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(d.Dialect))
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if d.Dialect == MySQL {
		dialect = goose.DialectMySQL
		locker, err := lock.NewMySQLTableLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithLocker(locker))
	}
	p, err := goose.NewProvider(dialect, d.writer.db, sub, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	log.Info("schema up to date", "dialect", d.Dialect, "version", v)
	return nil
}

// SchemaBehindError says the database lacks migrations this binary needs.
type SchemaBehindError struct {
	Applied int64 // highest version applied; 0 on an empty database
	Latest  int64 // highest version embedded in the binary
	Missing int   // embedded migrations not applied
}

func (e *SchemaBehindError) Error() string {
	return fmt.Sprintf("the database schema is behind this binary (version %d applied, %d needed, %d migration(s) missing): run `plaza migrate` with the same DATABASE_URL / PLAZA_DATA_DIR, or start without --no-migrate",
		e.Applied, e.Latest, e.Missing)
}

// CheckSchema returns a *SchemaBehindError when a migration embedded in
// this binary is not applied to the database, as when `plaza serve
// --no-migrate` meets an empty or older database. It only reads: it never
// creates goose's version table, so it works with a user that may not
// change the schema. A database ahead of the binary (a newer instance
// migrated it) passes.
func (d *DB) CheckSchema(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(d.Dialect))
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	if d.Dialect == MySQL {
		dialect = goose.DialectMySQL
	}
	// The provider only lists the embedded sources here; it runs nothing.
	p, err := goose.NewProvider(dialect, d.writer.db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("schema check: %w", err)
	}
	applied := map[int64]bool{}
	var exists int
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'"
	if d.Dialect == MySQL {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'goose_db_version'"
	}
	if err := d.Fresh().QueryRow(ctx, []any{&exists}, q); err != nil {
		return fmt.Errorf("schema check: %w", err)
	}
	if exists > 0 {
		// As goose's provider (what Migrate runs) decides: a version is
		// applied while its row exists; rolling back deletes the row.
		err := d.Fresh().Query(ctx, func(rows *sql.Rows) error {
			var v int64
			if err := rows.Scan(&v); err != nil {
				return err
			}
			applied[v] = true
			return nil
		}, "SELECT DISTINCT version_id FROM goose_db_version")
		if err != nil {
			return fmt.Errorf("schema check: %w", err)
		}
	}
	e := &SchemaBehindError{}
	for v := range applied {
		e.Applied = max(e.Applied, v)
	}
	for _, src := range p.ListSources() {
		e.Latest = max(e.Latest, src.Version)
		if !applied[src.Version] {
			e.Missing++
		}
	}
	if e.Missing > 0 {
		return e
	}
	return nil
}

// mysqlLogger sends go-sql-driver's own messages (a connection reset while
// the database is away) to slog.
type mysqlLogger struct{ log *slog.Logger }

func (l mysqlLogger) Print(v ...any) { l.log.Debug("mysql: " + fmt.Sprint(v...)) }

// RouteLibraryLog sends the MySQL driver's messages to log at debug level.
// The driver keeps its logger in a package variable, so this is
// process-wide: call it once, from main. Plaza reports outages itself.
func RouteLibraryLog(log *slog.Logger) { mysql.SetLogger(mysqlLogger{log}) }
