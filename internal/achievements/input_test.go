package achievements

import (
	"encoding/json"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

func TestLongestRunAndMet(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		days []int64
		want int64
	}{{nil, 0}, {[]int64{5}, 1}, {[]int64{1, 2, 3, 5, 6}, 3}, {[]int64{1, 3, 5}, 1}, {[]int64{1, 2, 4, 5, 6, 7}, 4}} {
		if got := LongestRun(c.days); got != c.want {
			t.Errorf("LongestRun(%v) = %d, want %d", c.days, got, c.want)
		}
	}
	pending := []Achievement{{ID: 1, Rule: &Rule{RuleMessages, 1}}, {ID: 2, Rule: &Rule{RuleMessages, 100}}, {ID: 3}, {ID: 4, Rule: &Rule{RuleLevel, 5}}}
	met := Met(pending, Metrics{RuleMessages: 99, RuleLevel: 5})
	if len(met) != 2 || met[0].ID != 1 || met[1].ID != 4 {
		t.Errorf("Met = %+v", met)
	}
	if n := Needs(pending); n[RuleMessages] != 100 || n[RuleLevel] != 5 || len(n) != 2 {
		t.Errorf("Needs = %v", n)
	}
}

func TestNullableDecoding(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]Nullable{
		`{}`:              {},
		`{"supply":null}`: {Set: true, Null: true},
		`{"supply":7}`:    {Set: true, Value: 7},
	} {
		var p CollectiblePatch
		if err := jsonv2.Unmarshal([]byte(body), &p, jsonv2.RejectUnknownMembers(true)); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if p.Supply != want {
			t.Errorf("%s: supply %+v, want %+v", body, p.Supply, want)
		}
	}
	var p CollectiblePatch
	if err := jsonv2.Unmarshal([]byte(`{"supply":"x"}`), &p); err == nil {
		t.Error(`"x" accepted as a supply`)
	}
}

// FuzzCollectiblePatch: any body either fails to decode or validate, or
// applies to a collectible leaving a supply, price and achievement in range.
func FuzzCollectiblePatch(f *testing.F) {
	for _, s := range []string{`{}`, `{"supply":null}`, `{"supply":0}`, `{"supply":5,"priceCredits":null}`, `{"name":"\u0000"}`,
		`{"rarity":"rare","achievementId":-1}`, `{"supply":1e3}`, `{"imageUrl":"/uploads/../x"}`, `{"supply":9223372036854775807}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var p CollectiblePatch
		if err := jsonv2.Unmarshal([]byte(body), &p, jsonv2.RejectUnknownMembers(true)); err != nil {
			return
		}
		if p.Validate() != nil {
			return
		}
		supply := int64(10)
		c := p.Apply(Collectible{Name: "x", Rarity: Common, Supply: &supply, Minted: 3})
		if c.Supply != nil && (*c.Supply < 1 || *c.Supply > MaxSupply) {
			t.Fatalf("supply %d accepted from %s", *c.Supply, body)
		}
		if c.PriceCredits != nil && (*c.PriceCredits < 1 || *c.PriceCredits > MaxPrice) {
			t.Fatalf("price %d accepted from %s", *c.PriceCredits, body)
		}
		if !c.Rarity.Valid() || (c.Supply == nil) != (c.Remaining == nil) {
			t.Fatalf("bad collectible %+v from %s", c, body)
		}
		if b, err := json.Marshal(c); err != nil || !json.Valid(b) {
			t.Fatalf("marshal: %v", err)
		}
	})
}

// FuzzAchievementInput: an input that validates is within every limit.
func FuzzAchievementInput(f *testing.F) {
	f.Add(`{"slug":"a","name":"A","rarity":"rare","xp":5,"rule":{"kind":"messages","count":3}}`)
	f.Add(`{"slug":"-a","name":" ","rarity":"x","iconUrl":"javascript:1"}`)
	f.Fuzz(func(t *testing.T, body string) {
		var in AchievementInput
		if jsonv2.Unmarshal([]byte(body), &in, jsonv2.RejectUnknownMembers(true)) != nil {
			return
		}
		a, err := in.Achievement()
		if err != nil {
			return
		}
		if !slugRE.MatchString(a.Slug) || a.Name == "" || a.XP < 0 || a.XP > MaxXP || !a.Rarity.Valid() ||
			(a.Rule != nil && (!a.Rule.Kind.Valid() || a.Rule.Count < 1 || a.Rule.Count > MaxRuleCount)) {
			t.Fatalf("accepted %+v from %s", a, body)
		}
	})
}

// TestCheckJobPayload: the check's payload, written out by hand, is the
// JSON its handler reads.
func TestCheckJobPayload(t *testing.T) {
	t.Parallel()
	for _, id := range []int64{1, 42, 1<<53 - 1} {
		j := CheckJob(id)
		var p struct {
			UserID int64 `json:"userId"`
		}
		if err := json.Unmarshal(j.Payload, &p); err != nil || p.UserID != id {
			t.Errorf("CheckJob(%d).Payload = %s: %d, %v", id, j.Payload, p.UserID, err)
		}
		if j.Kind != CheckKind || j.UniqueKey != CheckKey(id) || j.MaxAttempts != 10 {
			t.Errorf("CheckJob(%d) = %+v", id, j)
		}
	}
}
