package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/plazahq/plaza/internal/account"
	"github.com/plazahq/plaza/internal/apperr"
)

const adminUsage = `Usage:
  plaza admin create --email E --username U --password P
      creates a verified account with role admin; '--password -' reads the
      password from the first line of standard input (keeps it out of ps).
      Uses the same PLAZA_DATA_DIR / DATABASE_URL as 'plaza serve' and works
      while a server runs.
`

func admin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, adminUsage)
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			return errHelpShown
		}
		return &exitError{exitUsage, errors.New("admin: expected 'create'")}
	}
	ef := newEnvFlags("admin create", getenv, stderr)
	ef.mirror("data-dir", "PLAZA_DATA_DIR", "data directory for SQLite")
	ef.mirror("database-url", "DATABASE_URL", "mysql:// URL; unset for SQLite")
	email := ef.fs.String("email", "", "admin email (required)")
	username := ef.fs.String("username", "", "admin username (required)")
	password := ef.fs.String("password", "", "admin password, or - to read it from stdin (required)")
	if err := ef.parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || *username == "" || *password == "" {
		fmt.Fprint(stderr, adminUsage)
		return &exitError{exitUsage, errors.New("admin create: --email, --username and --password are required")}
	}
	if *password == "-" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return &exitError{exitUsage, errors.New("admin create: no password on standard input")}
		}
		*password = strings.TrimRight(line, "\r\n")
	}
	in, err := ef.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer in.close()
	u, err := in.Accounts.CreateAdmin(ctx, account.RegisterInput{Email: *email, Username: *username, Password: *password})
	if e := apperr.From(err); err != nil && e.Code != apperr.Internal {
		return &exitError{exitUsage, errors.New("admin create: " + refusal(e))}
	}
	if err != nil {
		return fmt.Errorf("admin create: %w", err)
	}
	fmt.Fprintf(stdout, "admin created: id %d, username %s, email %s\n", u.ID, u.Username, u.Email)
	return nil
}

// refusal says in one line why the input was refused, naming each flag at
// fault ("an account with this username already exists (--username is
// taken)"), without the database's own wording.
func refusal(e *apperr.Error) string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	var parts []string
	for _, f := range slices.Sorted(maps.Keys(e.Fields)) {
		parts = append(parts, "--"+f+" "+e.Fields[f])
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}
