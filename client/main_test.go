package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
	"github.com/jmsg-im/jmsg/internal/jmsgdtest"
)

func TestMain(m *testing.M) { jmsgdtest.Main(m) }

// newClient returns a client of d's app with its own data directory.
func newClient(t testing.TB, d *jmsgdtest.Daemon) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{AppKey: d.AppKey, ServerURL: d.URL, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// registerAndLogin registers username with password "pw-"+username and
// logs c in.
func registerAndLogin(t testing.TB, c *client.Client, username string) {
	t.Helper()
	if err := c.Register(testCtx(t), username, "pw-"+username, nil); err != nil {
		t.Fatalf("Register(%q) = %v", username, err)
	}
	if err := c.Login(testCtx(t), username, "pw-"+username); err != nil {
		t.Fatalf("Login(%q) = %v", username, err)
	}
}

// wantCode fails unless err is a *jmsg.Error with code and the table's
// message for it.
func wantCode(t testing.TB, what string, err error, code int) {
	t.Helper()
	var je *jmsg.Error
	if !errors.As(err, &je) {
		t.Fatalf("%s = %v, want a *jmsg.Error with code %d", what, err, code)
	}
	if je.Code != code || je.Message != jmsg.MessageOf(code) {
		t.Fatalf("%s = (%d, %q), want (%d, %q)", what, je.Code, je.Message, code, jmsg.MessageOf(code))
	}
}
