package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
	_ "time/tzdata" // rest.time_zone works on machines without a zone database

	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/rest"
	"github.com/jmsg-im/jmsg/server/store/sqlite"
)

// DBFile is the SQLite database in the data directory.
const DBFile = "jmsg.db"

// Main is jmsgd's entry point: `jmsgd [flags]` serves, `jmsgd apps add`
// and `jmsgd apps list` manage apps. It returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "apps" {
		return appsMain(ctx, args[1:], stdout, stderr)
	}
	cfg, err := parseFlags("jmsgd", args, stderr)
	if err != nil {
		return 2
	}
	if err := Run(ctx, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "jmsgd:", err)
		return 1
	}
	return 0
}

// parseFlags builds the configuration: defaults, then the config file
// (-config, or jmsgd.toml in the data directory when it exists), then flags.
func parseFlags(name string, args []string, stderr io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "listen address (default "+cfg.Addr+")")
	data := fs.String("data", "", "data directory (default "+cfg.DataDir+")")
	conf := fs.String("config", "", "TOML config file (default: jmsgd.toml in the data directory, if present)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", name, fs.Arg(0))
		return cfg, errors.New("usage")
	}
	path := *conf
	if path == "" {
		dir := cfg.DataDir
		if *data != "" {
			dir = *data
		}
		if p := filepath.Join(dir, "jmsgd.toml"); fileExists(p) {
			path = p
		}
	}
	if path != "" {
		if err := cfg.LoadFile(path); err != nil {
			fmt.Fprintln(stderr, name+":", err)
			return cfg, err
		}
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if *data != "" {
		cfg.DataDir = *data
	}
	return cfg, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// Run serves until ctx ends, then shuts down: it stops accepting, closes
// every connection, commits what the write path holds and closes the store.
// It prints the base URL, and on first start the new app's credentials, to
// stdout.
func Run(ctx context.Context, cfg Config, stdout io.Writer) error {
	log := newLogger(cfg.LogLevel, os.Stderr)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, DBFile))
	if err != nil {
		return err
	}
	defer st.Close()
	creds, created, err := ensureFirstApp(ctx, st, cfg.DataDir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	ecfg := cfg.engine()
	ecfg.Logger = log
	if ecfg.Media.Store, err = cfg.mediaStore(); err != nil {
		return fmt.Errorf("opening the media store: %w", err)
	}
	if c, ok := ecfg.Media.Store.(io.Closer); ok {
		defer c.Close()
	}
	eng, err := server.New(ecfg, st)
	if err != nil {
		return err
	}
	loc, err := cfg.restLocation()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	eng.Routes(mux)
	rest.New(eng, st, rest.Config{RatePerMinute: cfg.REST.RatePerMinute, Location: loc, Logger: log}).Register(mux)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if created {
		fmt.Fprintf(stdout, "created app: appkey=%s master_secret=%s (kept in %s)\n",
			creds.AppKey, creds.MasterSecret, filepath.Join(cfg.DataDir, CredentialsFile))
	}
	fmt.Fprintf(stdout, "jmsgd serving http://%s (WebSocket ws://%s/v1/ws), data in %s\n", ln.Addr(), ln.Addr(), cfg.DataDir)
	if cfg.PprofAddr != "" {
		stop, err := servePprof(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	eng.Close() // ends WebSocket connections, which Shutdown does not track
	srv.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func appsMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		fmt.Fprintln(stderr, "usage: jmsgd apps add|list [-data DIR] [-config FILE] [-name NAME]")
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("jmsgd apps "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", DefaultConfig().DataDir, "data directory")
	name := fs.String("name", "", "name of the new app (add)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		fmt.Fprintln(stderr, "jmsgd:", err)
		return 1
	}
	st, err := sqlite.Open(ctx, filepath.Join(*data, DBFile))
	if err != nil {
		fmt.Fprintln(stderr, "jmsgd:", err)
		return 1
	}
	defer st.Close()
	if verb == "add" {
		c, err := AddApp(ctx, st, *name)
		if err != nil {
			fmt.Fprintln(stderr, "jmsgd:", err)
			return 1
		}
		fmt.Fprintf(stdout, "appkey=%s master_secret=%s\n", c.AppKey, c.MasterSecret)
		return 0
	}
	apps, err := st.ListApps(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "jmsgd:", err)
		return 1
	}
	for _, a := range apps {
		fmt.Fprintf(stdout, "appkey=%s master_secret=%s name=%q\n", a.AppKey, a.MasterSecret, a.Name)
	}
	return 0
}
