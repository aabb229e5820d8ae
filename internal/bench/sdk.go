package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
)

// runSDK is one-to-one through the Go SDK: every client has its own local
// database, and a message counts as acked when Send returns it committed.
func runSDK(ctx context.Context, t *target, o Options) (Result, error) {
	var cnt counters
	setup := time.Now()
	dir, err := os.MkdirTemp("", "jmsg-bench-sdk")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	newLoggedIn := func(name string) (*client.Client, error) {
		c, err := client.New(client.Config{AppKey: t.appKey, ServerURL: t.base, DataDir: dir})
		if err != nil {
			return nil, err
		}
		if err := c.Register(ctx, name, benchPassword, nil); err != nil && !isExists(err) {
			c.Close()
			return nil, err
		}
		if err := c.Login(ctx, name, benchPassword); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	var clients []*client.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	convs := make([]*client.Conversation, o.Pairs)
	var recvWG sync.WaitGroup
	for i := range o.Pairs {
		s, err := newLoggedIn(fmt.Sprintf("sdks%05d", i))
		if err != nil {
			return Result{}, err
		}
		clients = append(clients, s)
		go drain(s)
		r, err := newLoggedIn(fmt.Sprintf("sdkr%05d", i))
		if err != nil {
			return Result{}, err
		}
		clients = append(clients, r)
		recvWG.Add(1)
		go func() {
			defer recvWG.Done()
			for e := range r.Events() {
				if m, ok := e.(client.MessageReceived); ok {
					cnt.delivered.Add(1)
					if tc, ok := m.Message.Content.(*client.TextContent); ok {
						if ns, ok := tc.Extras["t"].(float64); ok {
							cnt.lat.record(time.Since(time.Unix(0, int64(ns))))
						}
					}
				}
			}
		}()
		if convs[i], err = s.CreateSingleConversation(ctx, fmt.Sprintf("sdkr%05d", i)); err != nil {
			return Result{}, err
		}
	}
	r := Result{Connections: 2 * o.Pairs, SetupSeconds: time.Since(setup).Seconds()}
	elapsed, before, after := measure(ctx, t, o, &cnt, o.Duration, func(ctx context.Context) {
		var wg sync.WaitGroup
		for i := range o.Pairs {
			for range o.Window {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						cnt.sent.Add(1)
						_, err := convs[i].SendText(context.Background(), "b", map[string]any{"t": time.Now().UnixNano()})
						if err != nil {
							cnt.errors.Add(1)
							continue
						}
						cnt.acked.Add(1)
					}
				}()
			}
		}
		wg.Wait()
	})
	r.Expected = cnt.acked.Load()
	waitDelivered(&cnt, r.Expected, 30*time.Second)
	finish(&r, &cnt, elapsed, before, after)
	r.MsgsPerSec = float64(r.Acked) / elapsed.Seconds()
	return r, nil
}

// drain discards a client's events.
func drain(c *client.Client) {
	for range c.Events() {
	}
}

func isExists(err error) bool { return jmsg.CodeOf(err) == jmsg.HttpUserExist }
