package textcheck

import "testing"

func TestHasControl(t *testing.T) {
	for _, c := range []struct {
		s, allowed string
		want       bool
	}{
		{"plain text, ünïcode ✓", "", false},
		{"two\nlines\tand a tab", Lines, false},
		{"two\nlines", "", true},
		{"carriage\r\nreturn", Lines, true},
		{"carriage\r\nreturn", Lines + "\r", false},
		{"nul\x00", Lines, true},
		{"escape \x1b[31mred", Lines, true},
		{"bell\a", Lines, true},
		{"c1 \u0085 next line", Lines, true},
		{"del \x7f", Lines, true},
		{"", "", false},
	} {
		if got := HasControl(c.s, c.allowed); got != c.want {
			t.Errorf("HasControl(%q, %q) = %v, want %v", c.s, c.allowed, got, c.want)
		}
	}
}
