// Command jmsgd is the jmsg server. See README.md and docs/CONFIG.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/jmsg-im/jmsg/internal/daemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := daemon.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
