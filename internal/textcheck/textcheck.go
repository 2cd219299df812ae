// Package textcheck holds the rule every free-text field shares: names,
// notes, reasons, descriptions, bodies. Each field keeps its own length
// and required checks; what no field may hold is control characters (a
// NUL, a terminal escape, a bell), which a reader's screen, an admin's
// terminal or a log would render, only the line breaks and tabs of text
// that may span lines.
package textcheck

import (
	"strings"
	"unicode"
)

// Lines is what text that may span lines may hold of the control
// characters: line feeds and tabs.
const Lines = "\n\t"

// Problem is what a field says of a value with control characters.
const Problem = "must not contain control characters"

// HasControl reports whether s holds a control character other than
// those in allowed (Lines, or "" for a one-line field).
func HasControl(s, allowed string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && !strings.ContainsRune(allowed, r) })
}
