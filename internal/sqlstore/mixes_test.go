package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/music/musictest"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

func TestMusicConformance(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		accounts := sqlstore.NewAccounts(db)
		var ids []int64
		for i := range 6 {
			u, err := accounts.CreateUser(context.Background(), account.NewUser{Email: fmt.Sprintf("dj%d@example.com", i),
				Username: fmt.Sprintf("dj_%d", i), PasswordHash: "h", Role: account.RoleCreator}, nil, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		musictest.Exercise(t, sqlstore.NewMusic(db, nil), ids)
	})
}
