// Package cli implements the jmsg command line, built only on the public
// Go SDK (package client).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
)

// saved is what `jmsg login` keeps in the config directory: enough to log
// in again without the password.
type saved struct {
	Server   string `json:"server"`
	AppKey   string `json:"appkey"`
	Platform string `json:"platform"`
	Username string `json:"username"`
	Token    string `json:"token"`
}

const sessionFile = "session.json"

// configDir returns the directory jmsg keeps its session and SDK data in:
// -config, else $JMSG_CONFIG_DIR, else the user config dir's jmsg folder.
func configDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if d := os.Getenv("JMSG_CONFIG_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "jmsg"), nil
}

func loadSession(dir string) (saved, error) {
	var s saved
	b, err := os.ReadFile(filepath.Join(dir, sessionFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, errors.New("not logged in: run `jmsg login` first")
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("reading %s: %w", sessionFile, err)
	}
	return s, nil
}

func storeSession(dir string, s saved) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	return os.WriteFile(filepath.Join(dir, sessionFile), append(b, '\n'), 0o600)
}

func newSDK(dir, server, appKey, platform string) (*client.Client, error) {
	return client.New(client.Config{AppKey: appKey, ServerURL: server, DataDir: filepath.Join(dir, "data"), Platform: platform})
}

// resume logs in with the saved session and waits until the first sync
// has completed, so that local history is current.
func resume(ctx context.Context, dir string) (*client.Client, saved, error) {
	s, err := loadSession(dir)
	if err != nil {
		return nil, s, err
	}
	c, err := newSDK(dir, s.Server, s.AppKey, s.Platform)
	if err != nil {
		return nil, s, err
	}
	if err := c.LoginWithToken(ctx, s.Username, s.Token); err != nil {
		c.Close()
		var je *jmsg.Error
		if errors.As(err, &je) && je.Code == jmsg.TcpUserPasswordError {
			return nil, s, fmt.Errorf("the saved session has expired: run `jmsg login` again (%w)", err)
		}
		return nil, s, err
	}
	return c, s, nil
}

// waitSynced reads events until the first SyncCompleted, handing every
// other event to other (which may be nil).
func waitSynced(ctx context.Context, c *client.Client, other func(client.Event)) error {
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e, ok := <-c.Events():
			if !ok {
				return errors.New("client closed")
			}
			if _, done := e.(client.SyncCompleted); done {
				return nil
			}
			if other != nil {
				other(e)
			}
		case <-timeout:
			return errors.New("timed out waiting for the first sync")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
