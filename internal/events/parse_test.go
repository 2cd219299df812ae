package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/plazahq/plaza/internal/apperr"
)

func TestParseList(t *testing.T) {
	r, err := ParseList("2026-05-01T20:00:00+02:00", "", "1767225600000.42", "500")
	if err != nil || !r.From.Equal(time.Date(2026, 5, 1, 18, 0, 0, 0, time.UTC)) || !r.To.IsZero() ||
		r.AfterID != 42 || r.AfterStart.UnixMilli() != 1767225600000 || r.Limit != MaxLimit {
		t.Fatalf("%+v %v", r, err)
	}
	for _, q := range [][4]string{
		{"2026-05-01", "", "", ""}, {"", "x", "", ""}, {"", "", "42", ""}, {"", "", "1.0", ""}, {"", "", "a.1", ""},
		{"", "", "", "0"}, {"", "", "", "-1"}, {"2026-05-02T00:00:00Z", "2026-05-01T00:00:00Z", "", ""},
	} {
		if _, err := ParseList(q[0], q[1], q[2], q[3]); !apperr.Is(err, apperr.Validation) {
			t.Errorf("ParseList(%q) = %v, want a validation error", q, err)
		}
	}
}

func TestParseAttendeePage(t *testing.T) {
	p, err := ParseAttendeePage("2.7.31", "")
	if err != nil || p != (AttendeePage{AfterRank: 2, AfterSeq: 7, AfterUser: 31, Limit: DefaultLimit}) {
		t.Fatalf("%+v %v", p, err)
	}
	for _, c := range []string{"x", "1.2", "0.1.1", "5.1.1", "1.-1.1", "1.1.1.1", "1..1"} {
		if _, err := ParseAttendeePage(c, ""); !apperr.Is(err, apperr.Validation) {
			t.Errorf("cursor %q: %v", c, err)
		}
	}
}

func TestParseCapacity(t *testing.T) {
	for raw, want := range map[string]int{"1": 1, "250": 250, "1000000": 1000000} {
		fe := apperr.FieldErrors{}
		c, set := parseCapacity(fe, json.RawMessage(raw))
		if !set || c == nil || *c != want || len(fe) != 0 {
			t.Errorf("%s: %v %v %v", raw, c, set, fe)
		}
	}
	fe := apperr.FieldErrors{}
	if c, set := parseCapacity(fe, json.RawMessage("null")); !set || c != nil || len(fe) != 0 {
		t.Errorf("null: %v %v %v", c, set, fe)
	}
	if _, set := parseCapacity(fe, nil); set {
		t.Error("absent capacity reported as set")
	}
	for _, raw := range []string{"0", "-1", "1.5", `"5"`, "true", "[]", "1000001", "1e3"} {
		fe := apperr.FieldErrors{}
		if parseCapacity(fe, json.RawMessage(raw)); fe["capacity"] == "" {
			t.Errorf("%s accepted", raw)
		}
	}
}

func FuzzParseList(f *testing.F) {
	f.Add("2026-05-01T20:00:00Z", "", "1.2", "10")
	f.Add("", "2026-05-01T20:00:00Z", "", "")
	f.Fuzz(func(t *testing.T, from, to, cursor, limit string) {
		r, err := ParseList(from, to, cursor, limit)
		if err == nil && (r.Limit < 1 || r.Limit > MaxLimit || r.AfterID < 0) {
			t.Fatalf("accepted %+v", r)
		}
		if err != nil && !apperr.Is(err, apperr.Validation) {
			t.Fatalf("error %v is not a validation error", err)
		}
	})
}

func FuzzParseAttendeePage(f *testing.F) {
	f.Add("1.0.5", "20")
	f.Fuzz(func(t *testing.T, cursor, limit string) {
		p, err := ParseAttendeePage(cursor, limit)
		if err == nil && (p.Limit < 1 || p.Limit > MaxLimit || p.AfterRank < 0 || p.AfterRank > 4) {
			t.Fatalf("accepted %+v", p)
		}
	})
}
