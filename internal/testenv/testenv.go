// Package testenv reads the variables that name the real services tests
// run against: a test skips when its service is not named, except under
// CI=true, where a missing service fails it, so CI can never pass by
// skipping.
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
