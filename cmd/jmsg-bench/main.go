// Command jmsg-bench is jmsg's load generator. See docs/BENCHMARKS.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/jmsg-im/jmsg/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := bench.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
