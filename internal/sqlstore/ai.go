package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/plazahq/plaza/internal/ai"
	"github.com/plazahq/plaza/internal/jobs"
	"github.com/plazahq/plaza/internal/sqldb"
)

// AIRequests implements ai.Store.
type AIRequests struct {
	db *sqldb.DB
}

var _ ai.Store = (*AIRequests)(nil)

// NewAIRequests returns the store on db.
func NewAIRequests(db *sqldb.DB) *AIRequests { return &AIRequests{db: db} }

// Create stores the request and its jobs, which learn the request's id.
func (s *AIRequests) Create(ctx context.Context, r ai.Request, outbox ...jobs.Job) (ai.Request, error) {
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO ai_requests (user_id, kind, input, status, output, error, created_at, updated_at)
			VALUES (?, ?, ?, ?, '', '', ?, ?)`, r.UserID, r.Kind, r.Input, r.Status, ms(r.CreatedAt), ms(r.UpdatedAt))
		if err != nil {
			return err
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for i := range outbox {
			outbox[i].Payload, _ = json.Marshal(map[string]int64{"id": r.ID})
		}
		return jobs.InsertTx(ctx, tx, s.db.Dialect, r.CreatedAt, outbox...)
	})
	r.CreatedAt, r.UpdatedAt = fromMS(ms(r.CreatedAt)), fromMS(ms(r.UpdatedAt))
	return r, err
}

// Get returns one request.
func (s *AIRequests) Get(ctx context.Context, id int64) (ai.Request, error) {
	var r ai.Request
	var created, updated int64
	err := s.db.Fresh().QueryRow(ctx, []any{&r.ID, &r.UserID, &r.Kind, &r.Input, &r.Status, &r.Output, &r.Error, &created, &updated},
		`SELECT id, user_id, kind, input, status, output, error, created_at, updated_at FROM ai_requests WHERE id = ?`, id)
	if sqldb.IsNotFound(err) {
		return r, notFound("AI request")
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, err
}

// Finish records the outcome of a pending request.
func (s *AIRequests) Finish(ctx context.Context, id int64, status, output, errMsg string, now time.Time) (bool, error) {
	res, err := s.db.Write().Exec(ctx, `UPDATE ai_requests SET status = ?, output = ?, error = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
		status, output, errMsg, ms(now), id)
	if err != nil {
		return false, err
	}
	return affected(res) == 1, nil
}
