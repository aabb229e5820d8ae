package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// Main is jmsg-bench's command line; it returns the exit code: 0 when the
// run completed with nothing lost, 1 otherwise, 2 for bad flags.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("jmsg-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.StringVar(&o.Scenario, "scenario", "one-to-one", "one-to-one, group, idle, reconnect or sdk")
	fs.DurationVar(&o.Duration, "duration", 0, "sending time (idle: holding time); default 30s")
	fs.StringVar(&o.URL, "url", "", "a running jmsgd (http://host:port); default: start one on a fresh data dir")
	fs.StringVar(&o.AppKey, "appkey", "", "app key, with -url")
	fs.StringVar(&o.JMSGD, "jmsgd", "", "jmsgd binary to start (default: next to jmsg-bench)")
	fs.IntVar(&o.Pairs, "pairs", 0, "one-to-one, sdk: sender/receiver pairs (default 50)")
	fs.IntVar(&o.Members, "members", 0, "group: members, all online (default 500)")
	fs.IntVar(&o.Senders, "senders", 0, "group: senders (default 1)")
	fs.IntVar(&o.Conns, "conns", 0, "idle: connections; reconnect: clients (default 1000)")
	fs.IntVar(&o.Missed, "missed", 0, "reconnect: messages each client misses (default 10)")
	fs.IntVar(&o.Window, "window", 0, "sends in flight per sender (default 32)")
	fs.Float64Var(&o.Rate, "rate", 0, "one-to-one, group: messages per second of all senders together (default: as fast as acks allow)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	quiet := fs.Bool("q", false, "no progress bar")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "jmsg-bench:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "jmsg-bench:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	if !*quiet {
		o.Progress = stderr
	}
	r, err := Run(ctx, o)
	if err != nil && !errors.Is(err, ErrLost) {
		fmt.Fprintln(stderr, "jmsg-bench:", err)
		return 1
	}
	if *asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintln(stdout, string(b))
	} else {
		Print(stdout, r)
	}
	if errors.Is(err, ErrLost) {
		fmt.Fprintf(stderr, "jmsg-bench: %d messages lost\n", r.Lost)
		return 1
	}
	return 0
}
