package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/plazahq/plaza/internal/sqldb"
	"github.com/plazahq/plaza/internal/sqldb/sqldbtest"
)

// A client that reconnects with since after a message was removed (by a
// moderator resolving a report, or by its author) never sees its body: the
// replay has a tombstone at each of its earlier events' seqs, and its
// removal, so an open page drops it, with no hole in the seqs.
func TestReplayAfterRemovalShowsNoRemovedBody(t *testing.T) {
	sqldbtest.ForEach(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		adminTok, _ := e.admin("chief")
		modTok := e.modUser(adminTok, "mona")
		authorTok, _ := e.signup("writer")
		readerTok, _ := e.signup("reader")
		var ch channel
		e.must(201, e.do("POST", "/api/community/channels", map[string]any{"name": "General"}, adminTok)).json(&ch)
		room := fmt.Sprintf("channel:%d", ch.ID)
		post := func(body string) int64 {
			var m struct{ ID int64 }
			e.must(201, e.do("POST", fmt.Sprintf("/api/community/channels/%d/messages", ch.ID), map[string]string{"body": body}, authorTok)).json(&m)
			return m.ID
		}
		reported := post("SECRET reported")
		deleted := post("SECRET deleted")
		kept := post("kept")
		e.must(200, e.do("PUT", fmt.Sprintf("/api/community/messages/%d/reactions/%s", reported, "👍"), nil, readerTok))
		e.must(200, e.do("PATCH", fmt.Sprintf("/api/community/messages/%d", deleted), map[string]string{"body": "SECRET edited"}, authorTok))
		e.must(200, e.do("PUT", fmt.Sprintf("/api/community/messages/%d/reactions/%s", kept, "🎉"), nil, readerTok))

		var rep reportOut
		e.must(201, e.do("POST", "/api/reports", map[string]any{"targetKind": "message", "targetId": reported, "reason": "spam"}, readerTok)).json(&rep)
		e.must(200, e.do("POST", fmt.Sprintf("/api/admin/reports/%d/resolve", rep.ID), map[string]string{"action": "remove"}, modTok))
		e.must(204, e.do("DELETE", fmt.Sprintf("/api/community/messages/%d", deleted), nil, authorTok))

		for _, since := range []int64{0, 1, 3} {
			ws := e.connect(readerTok)
			sub := ws.subscribe(room, ptr(since))
			if sub.Op != "subscribed" || sub.Seq != 8 {
				t.Fatalf("since %d: subscribed %+v, want seq 8", since, sub)
			}
			var types []string
			for next := since + 1; next <= sub.Seq; {
				f := ws.read()
				if f.Room != room || f.Seq == 0 {
					continue // presence
				}
				if f.Seq != next {
					t.Fatalf("since %d: seq %d after %d", since, f.Seq, next-1)
				}
				next++
				if strings.Contains(string(f.Data), "SECRET") {
					t.Fatalf("since %d: a removed message replayed: %s %s", since, f.Type, f.Data)
				}
				types = append(types, f.Type)
			}
			want := []string{"purged", "purged", "message.created", "purged", "purged", "reaction.added", "message.deleted", "message.deleted"}[since:]
			if fmt.Sprint(types) != fmt.Sprint(want) {
				t.Fatalf("since %d: replay %v, want %v", since, types, want)
			}
			ws.c.CloseNow()
		}
	})
}
