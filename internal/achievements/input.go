package achievements

import (
	"bytes"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/plazahq/plaza/internal/apperr"
	"github.com/plazahq/plaza/internal/textcheck"
)

// Limits on what admins may store.
const (
	MaxName        = 200
	MaxDescription = 2000
	MaxURL         = 512
	MaxXP          = 100_000
	MaxRuleCount   = 1_000_000
	MaxSupply      = 1_000_000
	MaxPrice       = 1_000_000_000
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// AchievementInput is POST /api/admin/achievements's body.
type AchievementInput struct {
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Description string `json:"description"`
	IconURL     string `json:"iconUrl"`
	XP          int64  `json:"xp"`
	Rarity      Rarity `json:"rarity"`
	Rule        *Rule  `json:"rule"` // null or absent: granted by hand only
}

// Achievement validates in and returns the achievement it defines.
func (in AchievementInput) Achievement() (Achievement, error) {
	f := apperr.FieldErrors{}
	checkSlug(f, in.Slug)
	checkText(f, "name", in.Name, 1, MaxName, "")
	checkText(f, "description", in.Description, 0, MaxDescription, textcheck.Lines)
	checkURL(f, "iconUrl", in.IconURL)
	if in.XP < 0 || in.XP > MaxXP {
		f.Add("xp", "must be 0 to 100000")
	}
	if !in.Rarity.Valid() {
		f.Add("rarity", "must be one of common, uncommon, rare, epic, legendary")
	}
	if in.Rule != nil {
		switch {
		case !in.Rule.Kind.Valid():
			f.Add("rule.kind", "must be one of messages, shouts, streak, courses, level, mixes, events")
		case in.Rule.Count < 1 || in.Rule.Count > MaxRuleCount:
			f.Add("rule.count", "must be 1 to 1000000")
		}
	}
	if err := f.Err(); err != nil {
		return Achievement{}, err
	}
	return Achievement{Slug: in.Slug, Name: strings.TrimSpace(in.Name), Description: in.Description, IconURL: in.IconURL,
		XP: in.XP, Rarity: in.Rarity, Rule: in.Rule}, nil
}

// GrantInput is POST /api/admin/achievements/{id}/grant's body.
type GrantInput struct {
	UserID int64  `json:"userId"`
	Reason string `json:"reason"`
}

// CollectibleInput is POST /api/admin/collectibles's body.
type CollectibleInput struct {
	Slug          string `json:"slug"`
	Name          string `json:"name"`
	ImageURL      string `json:"imageUrl"`
	Rarity        Rarity `json:"rarity"`
	Supply        *int64 `json:"supply"`        // null: unlimited
	PriceCredits  *int64 `json:"priceCredits"`  // null: not for sale
	AchievementID *int64 `json:"achievementId"` // null: no achievement grants it
}

// Collectible validates in and returns the collectible it defines.
func (in CollectibleInput) Collectible() (Collectible, error) {
	f := apperr.FieldErrors{}
	checkSlug(f, in.Slug)
	checkText(f, "name", in.Name, 1, MaxName, "")
	checkURL(f, "imageUrl", in.ImageURL)
	if !in.Rarity.Valid() {
		f.Add("rarity", "must be one of common, uncommon, rare, epic, legendary")
	}
	checkSupply(f, in.Supply)
	checkPrice(f, in.PriceCredits)
	if in.AchievementID != nil && *in.AchievementID <= 0 {
		f.Add("achievementId", "must be an achievement's id")
	}
	if err := f.Err(); err != nil {
		return Collectible{}, err
	}
	return Collectible{Slug: in.Slug, Name: strings.TrimSpace(in.Name), ImageURL: in.ImageURL, Rarity: in.Rarity,
		Supply: in.Supply, PriceCredits: in.PriceCredits, AchievementID: in.AchievementID}, nil
}

// Nullable is a PATCH member that may be absent (Set false), null (Null)
// or a number.
type Nullable struct {
	Set, Null bool
	Value     int64
}

// UnmarshalJSON records that the member was present, and its value.
func (n *Nullable) UnmarshalJSON(b []byte) error {
	n.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// Ptr returns the value as a pointer, nil for null.
func (n Nullable) Ptr() *int64 {
	if n.Null {
		return nil
	}
	v := n.Value
	return &v
}

// CollectiblePatch is PATCH /api/admin/collectibles/{id}'s body: absent
// members stay as they are; supply, priceCredits and achievementId may be
// set to null.
type CollectiblePatch struct {
	Name          *string  `json:"name"`
	ImageURL      *string  `json:"imageUrl"`
	Rarity        *Rarity  `json:"rarity"`
	Supply        Nullable `json:"supply"`
	PriceCredits  Nullable `json:"priceCredits"`
	AchievementID Nullable `json:"achievementId"`
}

// Validate reports bad members (422).
func (p CollectiblePatch) Validate() error {
	f := apperr.FieldErrors{}
	if p.Name != nil {
		checkText(f, "name", *p.Name, 1, MaxName, "")
	}
	if p.ImageURL != nil {
		checkURL(f, "imageUrl", *p.ImageURL)
	}
	if p.Rarity != nil && !p.Rarity.Valid() {
		f.Add("rarity", "must be one of common, uncommon, rare, epic, legendary")
	}
	if p.Supply.Set {
		checkSupply(f, p.Supply.Ptr())
	}
	if p.PriceCredits.Set {
		checkPrice(f, p.PriceCredits.Ptr())
	}
	if p.AchievementID.Set && !p.AchievementID.Null && p.AchievementID.Value <= 0 {
		f.Add("achievementId", "must be an achievement's id")
	}
	return f.Err()
}

// Apply returns c changed by p (Remaining is recomputed).
func (p CollectiblePatch) Apply(c Collectible) Collectible {
	if p.Name != nil {
		c.Name = strings.TrimSpace(*p.Name)
	}
	if p.ImageURL != nil {
		c.ImageURL = *p.ImageURL
	}
	if p.Rarity != nil {
		c.Rarity = *p.Rarity
	}
	if p.Supply.Set {
		c.Supply = p.Supply.Ptr()
	}
	if p.PriceCredits.Set {
		c.PriceCredits = p.PriceCredits.Ptr()
	}
	if p.AchievementID.Set {
		c.AchievementID = p.AchievementID.Ptr()
	}
	c.Remaining = remaining(c.Supply, c.Minted)
	return c
}

func remaining(supply *int64, minted int64) *int64 {
	if supply == nil {
		return nil
	}
	r := max(*supply-minted, 0)
	return &r
}

// Remaining is what is left of supply once minted were handed out (nil
// for an unlimited supply).
func Remaining(supply *int64, minted int64) *int64 { return remaining(supply, minted) }

func checkSlug(f apperr.FieldErrors, s string) {
	if !slugRE.MatchString(s) {
		f.Add("slug", "must be 1-64 lowercase letters, digits and dashes, starting with a letter or digit")
	}
}

// checkText checks a text field; allowed is the control characters it
// may hold (textcheck.Lines for text that may span lines).
func checkText(f apperr.FieldErrors, field, s string, minLen, maxLen int, allowed string) {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	switch {
	case !utf8.ValidString(s):
		f.Add(field, "is not valid UTF-8")
	case n < minLen:
		f.Add(field, "is required")
	case utf8.RuneCountInString(s) > maxLen:
		f.Add(field, "is too long")
	case textcheck.HasControl(s, allowed):
		f.Add(field, textcheck.Problem)
	}
}

// checkURL accepts "", an /uploads/ path (from POST /api/uploads) or an
// http(s) URL.
func checkURL(f apperr.FieldErrors, field, s string) {
	if s == "" {
		return
	}
	if len(s) > MaxURL {
		f.Add(field, "is too long")
		return
	}
	if strings.HasPrefix(s, "/uploads/") && !strings.Contains(s, "..") {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		f.Add(field, "must be an /uploads/ path or an http(s) URL")
	}
}

func checkSupply(f apperr.FieldErrors, v *int64) {
	if v != nil && (*v < 1 || *v > MaxSupply) {
		f.Add("supply", "must be null (unlimited) or 1 to 1000000")
	}
}

func checkPrice(f apperr.FieldErrors, v *int64) {
	if v != nil && (*v < 1 || *v > MaxPrice) {
		f.Add("priceCredits", "must be null (not for sale) or 1 to 1000000000")
	}
}
