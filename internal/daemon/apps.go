package daemon

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jmsg-im/jmsg/server/store"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomKey returns 24 random ASCII letters and digits, the shape of
// JMessage's app keys and master secrets.
func randomKey() string {
	b := make([]byte, 24)
	for i := range b {
		b[i] = alnum[randIndex(len(alnum))]
	}
	return string(b)
}

func randIndex(n int) int {
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < 256-256%n {
			return int(b[0]) % n
		}
	}
}

// CredentialsFile is the file in the data directory that holds the first
// app's credentials, written when jmsgd creates it.
const CredentialsFile = "credentials.json"

// Credentials are an app's key and master secret.
type Credentials struct {
	AppKey       string `json:"appkey"`
	MasterSecret string `json:"master_secret"`
}

// AddApp creates a new app with a random key and secret.
func AddApp(ctx context.Context, st store.Apps, name string) (Credentials, error) {
	for {
		c := Credentials{AppKey: randomKey(), MasterSecret: randomKey()}
		err := st.CreateApp(ctx, store.App{AppKey: c.AppKey, MasterSecret: c.MasterSecret, Name: name, CTimeMs: time.Now().UnixMilli()})
		if err == store.ErrExists {
			continue
		}
		return c, err
	}
}

// ensureFirstApp creates the first app of an empty store, writes its
// credentials to the data directory and returns them with created set.
func ensureFirstApp(ctx context.Context, st store.Apps, dataDir string) (Credentials, bool, error) {
	apps, err := st.ListApps(ctx)
	if err != nil {
		return Credentials{}, false, err
	}
	if len(apps) > 0 {
		return Credentials{AppKey: apps[0].AppKey, MasterSecret: apps[0].MasterSecret}, false, nil
	}
	c, err := AddApp(ctx, st, "default")
	if err != nil {
		return c, false, fmt.Errorf("creating the first app: %w", err)
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(filepath.Join(dataDir, CredentialsFile), append(b, '\n'), 0o600); err != nil {
		return c, true, fmt.Errorf("writing credentials: %w", err)
	}
	return c, true, nil
}
