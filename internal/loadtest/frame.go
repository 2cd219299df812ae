package loadtest

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// frame is a server frame as the generator reads it when the fast path
// (parseEvent) does not apply: every frame but an event's.
type frame struct {
	Op   string `json:"op"`
	Code string `json:"code"`
	Room string `json:"room"`
	Seq  int64  `json:"seq"`
	Type string `json:"type"`
	Data struct {
		Body string `json:"body"`
	} `json:"data"`
}

// event is what the checks need from a frame: its op, room and seq (and
// code, for errors), and for a load-test post (message.created whose body
// starts "lt:<unix nanos>") the time it was sent; sent is 0 otherwise.
type event struct {
	op, code, room string
	seq, sent      int64
}

func eventOf(f frame) event {
	e := event{op: f.Op, code: f.Code, room: f.Room, seq: f.Seq}
	if f.Type == "message.created" {
		e.sent = sentAt(f.Data.Body)
	}
	return e
}

// sentAt reads the send time a load-test post's body starts with.
func sentAt(body string) int64 {
	rest, ok := strings.CutPrefix(body, "lt:")
	if !ok {
		return 0
	}
	digits, _, _ := strings.Cut(rest, " ")
	sent, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0
	}
	return sent
}

// parseEvent reads an event frame without decoding it as JSON: at 10,000
// users the generator receives ~30,000 frames a second, and decoding each
// one took more of the shared machine than anything else the generator
// does per frame. The server writes every event frame the same way,
//
//	{"op":"event","room":"<room>","seq":<n>,"type":"<type>","ts":<ms>,"data":<data>}
//
// and a message's data as {"id":..,"channelId":..,"body":"<body>",...} (a
// thread message's as {"id":..,"threadId":..,"body":...}): keys in that
// order, room and type without escapes. A frame laid out any other way
// is not read here (ok false): the caller decodes it as JSON instead, so
// the fast path can only decline, never misread.
func parseEvent(b []byte) (e event, ok bool) {
	rest, ok := bytes.CutPrefix(b, []byte(`{"op":"event","room":"`))
	if !ok {
		return e, false
	}
	room, rest, ok := quoted(rest)
	if !ok {
		return e, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"seq":`)); !ok {
		return e, false
	}
	seq, rest, ok := number(rest)
	if !ok {
		return e, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"type":"`)); !ok {
		return e, false
	}
	typ, rest, ok := quoted(rest)
	if !ok {
		return e, false
	}
	e = event{op: "event", room: string(room), seq: seq}
	if string(typ) != "message.created" {
		return e, true
	}
	// The post's body follows the numeric id and channelId (or threadId)
	// in data; anything else there and JSON decides.
	for _, want := range []string{`,"ts":`, `,"data":{"id":`} {
		if rest, ok = bytes.CutPrefix(rest, []byte(want)); !ok {
			return e, false
		}
		if _, rest, ok = number(rest); !ok {
			return e, false
		}
	}
	if r, ok := bytes.CutPrefix(rest, []byte(`,"channelId":`)); ok {
		rest = r
	} else if rest, ok = bytes.CutPrefix(rest, []byte(`,"threadId":`)); !ok {
		return e, false
	}
	if _, rest, ok = number(rest); !ok {
		return e, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"body":"`)); !ok {
		return e, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte("lt:")); ok {
		if e.sent, rest, ok = number(rest); !ok || !bytes.HasPrefix(rest, []byte(" ")) {
			return e, false // not the generator's own layout: let JSON say
		}
	}
	return e, true
}

// quoted splits b at the first quote, refusing a string with escapes.
func quoted(b []byte) (s, rest []byte, ok bool) {
	end := bytes.IndexByte(b, '"')
	if end < 0 || bytes.IndexByte(b[:end], '\\') >= 0 {
		return nil, nil, false
	}
	return b[:end], b[end+1:], true
}

// number reads the decimal digits b starts with (at least one, no
// leading zero, as in JSON; within int64) and returns what follows them.
func number(b []byte) (n int64, rest []byte, ok bool) {
	if len(b) > 1 && b[0] == '0' && b[1] >= '0' && b[1] <= '9' {
		return 0, nil, false
	}
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := int64(b[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, nil, false
		}
		n = n*10 + d
	}
	return n, b[i:], i > 0
}
