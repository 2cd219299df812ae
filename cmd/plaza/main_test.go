package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return exitFailure
	}
	return 0
}

func TestUsageAndConfigErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		msg  string
	}{
		{"no command", nil, nil, exitUsage, "no command"},
		{"unknown command", []string{"frobnicate"}, nil, exitUsage, "unknown command"},
		{"bad pool size", []string{"migrate"}, map[string]string{"PLAZA_DATA_DIR": dir, "DB_POOL_SIZE": "lots"}, exitUsage, "DB_POOL_SIZE"},
		{"bad flag", []string{"serve", "--nope"}, nil, exitUsage, "flag provided but not defined"},
		{"admin missing fields", []string{"admin", "create", "--email", "a@b.co"}, map[string]string{"PLAZA_DATA_DIR": dir}, exitUsage, "required"},
		{"database down", []string{"migrate"}, map[string]string{"DATABASE_URL": "mysql://root@127.0.0.1:1/plaza", "DB_CONNECT_TIMEOUT": "300ms"}, exitUnavailable, "cannot reach"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(ctx, tc.args, envMap(tc.env), strings.NewReader(""), &out, &errOut)
			if exitCode(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got exit %d, err %v; want exit %d mentioning %q", exitCode(err), err, tc.code, tc.msg)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, envMap(nil), nil, &out, &out); err != nil || !strings.HasPrefix(out.String(), "plaza ") {
		t.Fatalf("%q %v", out.String(), err)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestAdminCreateThenServe creates an admin with the CLI, serves on the same
// data dir, signs in as the admin, then stops the server with its context.
func TestAdminCreateThenServe(t *testing.T) {
	dir := t.TempDir()
	env := envMap(map[string]string{"PLAZA_DATA_DIR": dir, "PLAZA_LOG_LEVEL": "warn", "PLAZA_HASH_CONCURRENCY": "2"})
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"admin", "create", "--email", "root@example.com", "--username", "root", "--password", "-"},
		env, strings.NewReader("an admin passphrase\n"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "admin created") {
		t.Fatalf("admin create: %v\n%s%s", err, out.String(), errOut.String())
	}
	// Same email again: a clear conflict, exit 2.
	err = run(context.Background(), []string{"admin", "create", "--email", "root@example.com", "--username", "root2", "--password", "another passphrase"},
		env, nil, &out, &errOut)
	if exitCode(err) != exitUsage || err.Error() != "admin create: an account with this email already exists (--email is taken)" {
		t.Fatalf("duplicate admin: %v", err)
	}
	// A taken username (in any case) is named too, in one line without
	// the database's wording.
	err = run(context.Background(), []string{"admin", "create", "--email", "second@example.com", "--username", "ROOT", "--password", "another passphrase"},
		env, nil, &out, &errOut)
	if exitCode(err) != exitUsage || err.Error() != "admin create: an account with this username already exists (--username is taken)" {
		t.Fatalf("taken username: %v", err)
	}
	err = run(context.Background(), []string{"admin", "create", "--email", "second@example.com", "--username", "x", "--password", "short"},
		env, nil, &out, &errOut)
	if exitCode(err) != exitUsage || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "--username must be") || !strings.Contains(err.Error(), "--password must be") {
		t.Fatalf("invalid fields: %v", err)
	}

	in := startInstance(t, map[string]string{"PLAZA_DATA_DIR": dir})
	var login struct {
		User struct {
			Role          string
			EmailVerified bool
		}
	}
	code := in.call(t, "POST", "/api/auth/login", "", map[string]string{"login": "root", "password": "an admin passphrase"}, &login)
	if code != 200 || login.User.Role != "admin" || !login.User.EmailVerified {
		t.Fatalf("admin login: %d %+v", code, login)
	}
	in.stop()
	if _, err := http.Get(in.base + "/api/health"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

// PLAZA_DEBUG_ADDR serves the profiler on its own address, and only there.
func TestDebugAddrServesProfiler(t *testing.T) {
	debug := freeAddr(t)
	in := startInstance(t, map[string]string{"PLAZA_DEBUG_ADDR": debug})
	res, err := http.Get("http://" + debug + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "goroutine profile") {
		t.Fatalf("profiler: %d %.200s", res.StatusCode, b)
	}
	res, err = http.Get(in.base + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("public address serves the profiler: %d", res.StatusCode)
	}
}
