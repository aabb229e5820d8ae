// Command sdksender is a test program built only on the Go SDK: it logs a
// user in and sends -count numbered text messages to -to, resuming after a
// crash from what its local database holds. Tests kill it with SIGKILL
// mid-send and run it again on the same data directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
)

func main() {
	server := flag.String("server", "", "jmsgd URL")
	appKey := flag.String("appkey", "", "app key")
	data := flag.String("data", "", "SDK data directory")
	user := flag.String("user", "", "username")
	pass := flag.String("pass", "", "password")
	to := flag.String("to", "", "recipient")
	count := flag.Int("count", 100, "messages to send")
	prefix := flag.String("prefix", "m", "text prefix; message i is <prefix>-<i>")
	flag.Parse()
	if err := run(*server, *appKey, *data, *user, *pass, *to, *prefix, *count); err != nil {
		fmt.Fprintln(os.Stderr, "sdksender:", err)
		os.Exit(1)
	}
	fmt.Println("done")
}

func run(server, appKey, data, user, pass, to, prefix string, count int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := client.New(client.Config{AppKey: appKey, ServerURL: server, DataDir: data})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(ctx, user, pass); err != nil {
		return err
	}
	conv, err := c.CreateSingleConversation(ctx, to)
	if err != nil {
		return err
	}
	// What an earlier run already created: queued messages are sent by the
	// SDK's outbox on login; only the missing ones are created here.
	have := map[string]bool{}
	ms, err := conv.Messages(0, 1_000_000)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if !m.Received {
			have[m.Text()] = true
		}
	}
	fmt.Printf("resuming with %d of %d\n", len(have), count)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range count {
		text := fmt.Sprintf("%s-%d", prefix, i)
		if have[text] {
			continue
		}
		m, err := conv.CreateMessage(&client.TextContent{Text: text})
		if err != nil {
			return err
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
			defer scancel()
			c.Send(sctx, m) // a failure leaves it queued or failed; checked below
		}()
		fmt.Printf("sent %d\n", i)
	}
	wg.Wait()
	// Wait until nothing is waiting; resend what the server refused.
	for {
		ms, err := conv.Messages(0, 1_000_000)
		if err != nil {
			return err
		}
		pending := 0
		for _, m := range ms {
			if m.Received || !strings.HasPrefix(m.Text(), prefix+"-") {
				continue
			}
			switch m.Status {
			case jmsg.StatusSendSucceed:
			case jmsg.StatusSendFailed, jmsg.StatusSendDraft:
				pending++
				sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
				c.Send(sctx, m)
				scancel()
			default:
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d messages still pending", pending)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
