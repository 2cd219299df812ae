package music

import (
	"strconv"
	"strings"
)

// MaxGenres is how many genres one mix may carry.
const MaxGenres = 5

// Genres are the genres a mix may carry, in their normal form. A closed
// list keeps "Deep House", "deep_house" and "deephouse" one genre, so
// listing by genre finds them all.
var Genres = []string{
	"afro-house", "amapiano", "ambient", "breaks", "deep-house", "disco",
	"downtempo", "drum-and-bass", "dub", "dubstep", "edm", "electro",
	"experimental", "funk", "garage", "hardstyle", "hip-hop", "house",
	"jazz", "jungle", "lo-fi", "minimal", "pop", "progressive",
	"reggae", "rnb", "soul", "tech-house", "techno", "trance",
}

var genreSet = func() map[string]bool {
	m := make(map[string]bool, len(Genres))
	for _, g := range Genres {
		m[g] = true
	}
	return m
}()

// genreAliases maps common spellings (after normalising) to a genre.
var genreAliases = map[string]string{
	"dnb": "drum-and-bass", "d-and-b": "drum-and-bass", "drum-n-bass": "drum-and-bass", "drumandbass": "drum-and-bass",
	"hiphop": "hip-hop", "r-and-b": "rnb", "randb": "rnb", "lofi": "lo-fi", "deephouse": "deep-house",
	"techhouse": "tech-house", "afrohouse": "afro-house", "uk-garage": "garage", "ukg": "garage",
}

// NormalizeGenre returns the normal form of a genre name ("Deep House" →
// "deep-house") and whether it is one of Genres.
func NormalizeGenre(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r == '&':
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteString("and-")
			dash = true
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() > 64 {
			return "", false
		}
	}
	g := strings.Trim(b.String(), "-")
	if a, ok := genreAliases[g]; ok {
		g = a
	}
	return g, genreSet[g]
}

// normalizeGenres validates a mix's genres: 1 to MaxGenres known genres,
// duplicates folded, order kept. The error text names the problem.
func normalizeGenres(in []string) ([]string, string) {
	if len(in) == 0 {
		return nil, "must name at least one genre"
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, raw := range in {
		g, ok := NormalizeGenre(raw)
		if !ok {
			return nil, strconv.Quote(raw) + " is not a known genre; use one of " + strings.Join(Genres, ", ")
		}
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	if len(out) > MaxGenres {
		return nil, "must name at most " + strconv.Itoa(MaxGenres) + " genres"
	}
	return out, ""
}
