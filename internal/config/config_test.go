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
		"PLAZA_LEVELS":           "5,10",
		"PLAZA_TRUSTED_PROXIES":  "10.0.0.0/99",
		"STRIPE_SECRET_KEY":      "sk_test_x",                      // without the webhook secret
		"DATABASE_REPLICA_URLS":  "mysql://r:p@replica:3306/plaza", // without a primary
		"PLAZA_METRICS_ADDR":     "9090",
		"PLAZA_METRICS_TOKEN":    "short",
		"PLAZA_MAX_CONNS_PER_IP": "-1",
		"PLAZA_MAX_CONNECTIONS":  "many",
		"PLAZA_BODY_TIMEOUT":     "forever",
		"PLAZA_UPLOAD_TIMEOUT":   "-5m",
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

// PORT is the platform's variable: a bad value is blamed on PORT, not on
// PLAZA_ADDR, which the user never set.
func TestBadPortNamesPort(t *testing.T) {
	for _, port := range []string{"99999", "http", "-1", "80 80", "+80"} {
		_, err := FromEnv(env(map[string]string{"PORT": port}))
		if err == nil || !strings.Contains(err.Error(), "PORT") || strings.Contains(err.Error(), "PLAZA_ADDR:") {
			t.Errorf("PORT=%q: %v", port, err)
		}
	}
	if c, err := FromEnv(env(map[string]string{"PORT": "8081"})); err != nil || c.Addr != ":8081" {
		t.Fatalf("PORT=8081: %q %v", c.Addr, err)
	}
	// PLAZA_ADDR wins; an unused PORT is not checked.
	if c, err := FromEnv(env(map[string]string{"PLAZA_ADDR": "127.0.0.1:9000", "PORT": "99999"})); err != nil || c.Addr != "127.0.0.1:9000" {
		t.Fatalf("PLAZA_ADDR and PORT: %q %v", c.Addr, err)
	}
	if _, err := FromEnv(env(map[string]string{"PLAZA_ADDR": ":99999"})); err == nil || !strings.Contains(err.Error(), "PLAZA_ADDR") {
		t.Fatalf("PLAZA_ADDR=:99999: %v", err)
	}
}

func TestImageLimits(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil || c.UploadImageMaxSide != 8192 || c.UploadImageMaxPixels != 40_000_000 {
		t.Fatalf("defaults: %d %d %v", c.UploadImageMaxSide, c.UploadImageMaxPixels, err)
	}
	for name, val := range map[string]string{"PLAZA_UPLOAD_MAX_IMAGE_SIDE": "huge", "PLAZA_UPLOAD_MAX_IMAGE_PIXELS": "10"} {
		if _, err := FromEnv(env(map[string]string{name: val})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, val, err)
		}
	}
}

func TestSecretsAreNotEchoed(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"REDIS_URL": "http://user:topsecret@host:6379"}))
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("got %v", err)
	}
	_, err = FromEnv(env(map[string]string{"PLAZA_METRICS_TOKEN": "top secret token value"}))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("got %v", err)
	}
}

func TestConnectionAndMetricsSettings(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.BodyTimeout != 30*time.Second || c.UploadTimeout != 10*time.Minute || c.MaxConns != 0 || c.MaxConnsPerAddr != 256 ||
		c.MetricsAddr != "" || c.MetricsToken != "" {
		t.Fatalf("defaults: %+v", c)
	}
	c, err = FromEnv(env(map[string]string{"PLAZA_BODY_TIMEOUT": "5s", "PLAZA_UPLOAD_TIMEOUT": "0", "PLAZA_MAX_CONNECTIONS": "5000",
		"PLAZA_MAX_CONNS_PER_IP": "0", "PLAZA_METRICS_ADDR": "127.0.0.1:9090", "PLAZA_METRICS_TOKEN": "0123456789abcdef"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.BodyTimeout != 5*time.Second || c.UploadTimeout != 0 || c.MaxConns != 5000 || c.MaxConnsPerAddr != 0 ||
		c.MetricsAddr != "127.0.0.1:9090" || c.MetricsToken != "0123456789abcdef" {
		t.Fatalf("overrides: %+v", c)
	}
}

func TestLoginIPBudgetAndRequireVerified(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil || c.RateLimits["login"] != "5/15m" || c.RateLimits["login_ip"] != "50/15m" || !c.RequireVerified {
		t.Fatalf("defaults: login %q, login_ip %q, require verified %v, %v", c.RateLimits["login"], c.RateLimits["login_ip"], c.RequireVerified, err)
	}
	c, err = FromEnv(env(map[string]string{"PLAZA_RATE_LOGIN_IP": "off", "PLAZA_REQUIRE_VERIFIED": "false"}))
	if err != nil || c.RateLimits["login_ip"] != "off" || c.RequireVerified {
		t.Fatalf("overrides: %q %v %v", c.RateLimits["login_ip"], c.RequireVerified, err)
	}
	for name, val := range map[string]string{"PLAZA_RATE_LOGIN_IP": "50", "PLAZA_REQUIRE_VERIFIED": "sometimes"} {
		_, err := FromEnv(env(map[string]string{name: val}))
		if err == nil || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: %v", name, val, err)
		}
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
