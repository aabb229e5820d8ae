package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg/client"
	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
)

func TestMain(m *testing.M) { jmsgdtest.Main(m) }

type daemon = jmsgdtest.Daemon

func startDaemon(t testing.TB, args ...string) *daemon { return jmsgdtest.Start(t, args...) }

var waitFor = jmsgdtest.WaitFor

// newClient returns an SDK client for the daemon's app with its own data
// directory, closed at the end of the test.
func newClient(t testing.TB, d *daemon, platform string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{AppKey: d.AppKey, ServerURL: d.URL, DataDir: t.TempDir(), Platform: platform})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// registerAndLogin registers username (password "secret-"+username) and
// logs c in.
func registerAndLogin(t testing.TB, c *client.Client, username string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Register(ctx, username, "secret-"+username, nil); err != nil {
		t.Fatalf("Register(%q) = %v", username, err)
	}
	if err := c.Login(ctx, username, "secret-"+username); err != nil {
		t.Fatalf("Login(%q) = %v", username, err)
	}
}
