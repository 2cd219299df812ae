package wallet

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Pack is a bundle of credits sold through Stripe Checkout.
type Pack struct {
	Pack       string `json:"pack"`
	Credits    int64  `json:"credits"`
	PriceCents int64  `json:"priceCents"`
	Currency   string `json:"currency"`
}

// DefaultPacks is what PLAZA_WALLET_PACKS holds when unset.
const DefaultPacks = "small:500:499,medium:1200:999,large:3000:1999"

var packName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// ParsePacks reads "name:credits:priceCents,..." in the given currency
// (an ISO code such as usd).
func ParsePacks(v, currency string) ([]Pack, error) {
	currency = strings.ToLower(strings.TrimSpace(currency))
	if len(currency) != 3 {
		return nil, fmt.Errorf("currency %q is not a three-letter ISO code", currency)
	}
	var out []Pack
	seen := map[string]bool{}
	for _, item := range strings.Split(v, ",") {
		parts := strings.Split(strings.TrimSpace(item), ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("pack %q is not name:credits:priceCents", item)
		}
		if !packName.MatchString(parts[0]) || seen[parts[0]] {
			return nil, fmt.Errorf("pack name %q is not a lowercase word or is repeated", parts[0])
		}
		credits, err1 := strconv.ParseInt(parts[1], 10, 64)
		price, err2 := strconv.ParseInt(parts[2], 10, 64)
		if err1 != nil || err2 != nil || credits <= 0 || credits > MaxAmount || price < 50 || price > 99_999_999 {
			return nil, fmt.Errorf("pack %q needs credits above 0 and a price of 50 to 99999999 cents", parts[0])
		}
		seen[parts[0]] = true
		out = append(out, Pack{Pack: parts[0], Credits: credits, PriceCents: price, Currency: currency})
	}
	return out, nil
}

// Find returns the pack named name.
func Find(packs []Pack, name string) (Pack, bool) {
	for _, p := range packs {
		if p.Pack == name {
			return p, true
		}
	}
	return Pack{}, false
}
