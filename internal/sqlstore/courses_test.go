package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/courses/coursestest"
	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
	"github.com/plazahq/plaza/internal/sqlstore"
)

func TestCoursesConformance(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		accounts := sqlstore.NewAccounts(db)
		var ids []int64
		for i := range 4 {
			u, err := accounts.CreateUser(context.Background(), account.NewUser{Email: fmt.Sprintf("learner%d@example.com", i),
				Username: fmt.Sprintf("learner_%d", i), PasswordHash: "h", Role: account.RoleUser}, nil, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		xpOf := func(ctx context.Context, id int64) (int64, error) {
			u, err := accounts.UserByID(ctx, id)
			return u.XP, err
		}
		coursestest.Exercise(t, sqlstore.NewCourses(db, sqlstore.NewXP(db, nil)), ids, xpOf)
	})
}
