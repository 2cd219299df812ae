// Package testenv holds what tests share: it reads the variables that
// name the real services tests run against (a test skips when its service
// is not named, except under CI=true, where a missing service fails it, so
// CI can never pass by skipping), and runs concurrent callers (Parallel).
package testenv

import (
	"os"
	"testing"
)

// Lookup returns the variable name's value, or skips t (fails under CI).
func Lookup(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is unset under CI=true: the %s tests must run", name, what)
		}
		t.Skipf("%s is unset; skipping %s", name, what)
	}
	return v
}

// Program returns the path of a program the tests need (the env variable
// name overrides def), or skips t when it is not installed (fails under CI).
func Program(t testing.TB, name, def, what string) string {
	t.Helper()
	p := os.Getenv(name)
	if p == "" {
		p = def
	}
	if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (%s) is not installed under CI=true: the %s tests must run", p, name, what)
	}
	t.Skipf("%s is not installed (set %s); skipping %s", p, name, what)
	return ""
}
