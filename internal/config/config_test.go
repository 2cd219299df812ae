package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.PoolSize != 10 || c.QueueLimit != 0 || c.Engine() != "sqlite" || !c.AutoMigrate ||
		c.BaseURL != "http://localhost:8080" || c.ShutdownTimeout != 15*time.Second || !strings.HasSuffix(c.DataDir, "/data") {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestPortAndOverrides(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"PORT": "9000", "DB_POOL_SIZE": "25", "DB_QUEUE_LIMIT": "100",
		"DATABASE_URL": "mysql://u:p@db:3306/plaza", "CORS_ORIGIN": "https://a.example, https://b.example",
		"PLAZA_TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9000" || c.PoolSize != 25 || c.QueueLimit != 100 || c.Engine() != "mysql" ||
		len(c.CORSOrigins) != 2 || len(c.TrustedProxies) != 2 {
		t.Fatalf("%+v", c)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	for name, val := range map[string]string{
		"DB_POOL_SIZE":           "ten",
		"DB_QUEUE_LIMIT":         "-1",
		"PLAZA_ADDR":             "nonsense",
		"PLAZA_DEBUG_ADDR":       "6060",
		"DATABASE_URL":           "postgres://x/y",
		"REDIS_URL":              "localhost:6379",
		"CDN_BASE_URL":           "cdn.example.com",
		"SMTP_URL":               "mail.example.com",
		"CORS_ORIGIN":            "app.example.com",
		"PLAZA_SHUTDOWN_TIMEOUT": "soon",
		"PLAZA_AUTO_MIGRATE":     "maybe",
		"PLAZA_LOG_FORMAT":       "xml",
		"PLAZA_TRUSTED_PROXIES":  "10.0.0.0/99",
		"STRIPE_SECRET_KEY":      "sk_test_x",                      // without the webhook secret
		"DATABASE_REPLICA_URLS":  "mysql://r:p@replica:3306/plaza", // without a primary
	} {
		_, err := FromEnv(env(map[string]string{name: val}))
		if err == nil {
			t.Errorf("%s=%q accepted", name, val)
			continue
		}
		msg := err.Error()
		if strings.Count(msg, "\n") > 0 || !strings.Contains(msg, "config: ") || !strings.Contains(msg, ";") {
			t.Errorf("%s: message %q is not one line with a fix", name, msg)
		}
		if name != "STRIPE_SECRET_KEY" && !strings.Contains(msg, name) {
			t.Errorf("%s: message %q does not name the variable", name, msg)
		}
	}
}

func TestSecretsAreNotEchoed(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"REDIS_URL": "http://user:topsecret@host:6379"}))
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("got %v", err)
	}
}

func TestDatabaseTimeouts(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"DATABASE_URL": "mysql://u:p@db:3306/plaza?timeout=2s&readTimeout=10s&writeTimeout=10s"}))
	if err != nil || c.QueryTimeout != 5*time.Second {
		t.Fatalf("defaults: %v %v", c.QueryTimeout, err)
	}
	if c, err := FromEnv(env(map[string]string{"DB_QUERY_TIMEOUT": "0"})); err != nil || c.QueryTimeout != 0 {
		t.Fatalf("0 turns the bound off: %v %v", c.QueryTimeout, err)
	}
	for _, tc := range []struct{ name, val string }{
		{"DB_QUERY_TIMEOUT", "soon"},
		{"DB_QUERY_TIMEOUT", "10ms"},
		{"DATABASE_URL", "mysql://u:p@db:3306/plaza?readTimeout=forever"},
	} {
		_, err := FromEnv(env(map[string]string{tc.name: tc.val}))
		if err == nil || !strings.Contains(err.Error(), tc.name) || strings.Contains(err.Error(), ":p@") {
			t.Errorf("%s=%q: %v", tc.name, tc.val, err)
		}
	}
}
