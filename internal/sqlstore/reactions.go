package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/plazahq/plaza/internal/community"
	"github.com/plazahq/plaza/internal/sqldb"
)

// React adds or removes one reaction; adding awards the author XP in the
// same transaction. The award's ref names the item and the reactor, so the
// ledger's unique key makes it once per reactor and item even when the
// same reactor races with several emoji or removes and adds again.
func (s *Community) React(ctx context.Context, r community.Reaction, on bool) (community.ReactionChange, error) {
	var ch community.ReactionChange
	award, ok := s.rules.ReactionAward(r.Author, string(r.Kind), r.ItemID, r.UserID)
	ok = ok && on
	err := s.db.Write().Tx(ctx, func(tx *sql.Tx) error {
		ch = community.ReactionChange{}
		if on {
			if err := liveItemTx(ctx, tx, s.db, r.Kind, r.ItemID); err != nil {
				return err
			}
		}
		var held Held
		if ok { // before the insert's foreign-key lock on the reactor: see LockTx
			var err error
			if held, err = s.xp.LockTx(ctx, tx, r.Author); err != nil {
				return err
			}
		}
		if on {
			_, err := tx.ExecContext(ctx, `INSERT INTO reactions (item_kind, item_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?, ?)`,
				string(r.Kind), r.ItemID, r.UserID, r.Emoji, ms(r.CreatedAt))
			if _, dup := sqldb.IsDuplicate(err); !dup {
				if err != nil {
					return err
				}
				ch.Changed = true
			}
		} else {
			res, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE item_kind = ? AND item_id = ? AND user_id = ? AND emoji = ?`,
				string(r.Kind), r.ItemID, r.UserID, r.Emoji)
			if err != nil {
				return err
			}
			ch.Changed = affected(res) > 0
		}
		if ch.Changed && ok {
			var err error
			if ch.XP, err = s.xp.AwardHeldTx(ctx, tx, r.CreatedAt, award, held); err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM reactions WHERE item_kind = ? AND item_id = ? AND emoji = ?`,
			string(r.Kind), r.ItemID, r.Emoji).Scan(&ch.Count)
	})
	return ch, err
}

// liveItemTx checks in tx that the item reacted to is still there (a
// message not deleted, a shout not removed), locking its row on MySQL:
// its deletion or a moderator's removal, which lock the same row first,
// then either comes after the reaction (and a removal takes back the XP
// it earned) or before it (and the reaction is refused). Checked only
// before the transaction, a reaction racing a removal was stored, earned
// its author XP the removal never took back, and was announced after the
// deletion. The item's row is locked before its author's, as a removal
// does.
func liveItemTx(ctx context.Context, tx *sql.Tx, db *sqldb.DB, kind community.ItemKind, id int64) error {
	q := `SELECT 1 FROM messages WHERE id = ? AND deleted_at IS NULL`
	if kind == community.KindShout {
		q = `SELECT 1 FROM shouts WHERE id = ?`
	}
	var one int
	err := tx.QueryRowContext(ctx, q+forUpdate(db), id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(string(kind))
	}
	return err
}

func itemArgs(kind community.ItemKind, ids []int64, first ...any) []any {
	args := append(first, string(kind))
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}

// Reactions counts the reactions on a page of items in one query.
func (s *Community) Reactions(ctx context.Context, kind community.ItemKind, ids []int64, viewer int64) (map[int64][]community.ReactionCount, error) {
	out := map[int64][]community.ReactionCount{}
	if len(ids) == 0 {
		return out, nil
	}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var id int64
		var c community.ReactionCount
		var mine int
		err := rows.Scan(&id, &c.Emoji, &c.Count, &mine)
		c.Mine = mine > 0
		out[id] = append(out[id], c)
		return err
	}, `SELECT item_id, emoji, COUNT(*), SUM(CASE WHEN user_id = ? THEN 1 ELSE 0 END) FROM reactions
		WHERE item_kind = ? AND item_id IN (`+placeholders(len(ids))+`) GROUP BY item_id, emoji`, itemArgs(kind, ids, viewer)...)
	return out, err
}

// MyReactions returns viewer's emoji on a page of items in one query.
func (s *Community) MyReactions(ctx context.Context, kind community.ItemKind, ids []int64, viewer int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(ids) == 0 || viewer == 0 {
		return out, nil
	}
	err := s.db.Read().Query(ctx, func(rows *sql.Rows) error {
		var id int64
		var emoji string
		err := rows.Scan(&id, &emoji)
		out[id] = append(out[id], emoji)
		return err
	}, `SELECT item_id, emoji FROM reactions WHERE user_id = ? AND item_kind = ? AND item_id IN (`+placeholders(len(ids))+`)`,
		itemArgs(kind, ids, viewer)...)
	return out, err
}
