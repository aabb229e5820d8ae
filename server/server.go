// Package server is jmsgd's engine: client connections over WebSocket,
// sessions, request handlers, the group-commit write path and fan-out to
// online sessions. It knows storage only through the store interfaces.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/jmsg-im/jmsg/server/media"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// Config holds the engine's settings. The zero value of a field means its
// default (see DefaultConfig).
type Config struct {
	MaxFrameBytes  int           // largest accepted frame; default wire.MaxFrameBytes
	SendQueue      int           // frames queued per connection before it is dropped as slow; default 1024, at least 2×CommitBatchMax
	WriteTimeout   time.Duration // per frame write; default 10s
	CommitBatchMax int           // most messages per commit; default 512
	PositionFlush  time.Duration // how often delivered positions and device logins are written; default 500ms
	BcryptCost     int           // password hashing cost; default 10

	// HistoryRetention is how long messages are kept; negative keeps them
	// for ever. Default 60 days. PurgeInterval is how often the purge
	// runs; default 1h.
	HistoryRetention time.Duration
	PurgeInterval    time.Duration
	// SendPerMinute limits the messages one user sends per minute (803010
	// beyond); default 1200, negative for no limit. RequestsPerSecond
	// limits the requests of one connection (800017 beyond); default 200,
	// negative for no limit. LoginFailuresPerMinute limits failed logins
	// of one username (800017 beyond, until the minute ends); default 10.
	SendPerMinute          int
	RequestsPerSecond      int
	LoginFailuresPerMinute int
	// RetractWindow is how long after it was sent a message may be
	// retracted (855001 beyond); default 3 minutes.
	RetractWindow time.Duration

	GroupDefaultMax    int // a new group's member limit when none is asked; default 500
	GroupMaxLimit      int // the largest member limit a group may ask for; default 2000
	GroupsPerUser      int // groups one user may belong to; default 500
	GroupsOwnedPerUser int // groups one user may own; default 500
	Media              MediaConfig
	Logger             *slog.Logger // default: discard
}

// MediaConfig configures media uploads and downloads (docs/MEDIA.md).
// Without a Store the media operations answer that media is not
// configured.
type MediaConfig struct {
	Store          media.Store
	StagingDir     string        // where uploads are assembled; required with Store
	MaxUploadBytes int64         // default 8 MiB (898061 beyond)
	UploadTokenTTL time.Duration // default 1h
	URLTTL         time.Duration // lifetime of download URLs; default 1h
	ThumbnailSize  int           // longest side of image thumbnails; default 320
	PublicURL      string        // base of upload and download URLs; default: the Host the client connected to
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxFrameBytes:  wire.MaxFrameBytes,
		SendQueue:      1024,
		WriteTimeout:   10 * time.Second,
		CommitBatchMax: 512,
		PositionFlush:  500 * time.Millisecond,
		BcryptCost:     10,

		HistoryRetention:       60 * 24 * time.Hour,
		PurgeInterval:          time.Hour,
		SendPerMinute:          1200,
		RequestsPerSecond:      200,
		LoginFailuresPerMinute: 10,

		GroupDefaultMax:    500,
		GroupMaxLimit:      2000,
		GroupsPerUser:      500,
		GroupsOwnedPerUser: 500,
		RetractWindow:      3 * time.Minute,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = d.MaxFrameBytes
	}
	if c.SendQueue <= 0 {
		c.SendQueue = d.SendQueue
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.CommitBatchMax <= 0 {
		c.CommitBatchMax = d.CommitBatchMax
	}
	if c.SendQueue < 2*c.CommitBatchMax {
		// publish queues up to a whole batch per recipient at once.
		c.SendQueue = 2 * c.CommitBatchMax
	}
	if c.Media.MaxUploadBytes <= 0 {
		c.Media.MaxUploadBytes = 8 << 20
	}
	if c.Media.UploadTokenTTL <= 0 {
		c.Media.UploadTokenTTL = time.Hour
	}
	if c.Media.URLTTL <= 0 {
		c.Media.URLTTL = time.Hour
	}
	if c.Media.ThumbnailSize <= 0 {
		c.Media.ThumbnailSize = 320
	}
	if c.PositionFlush <= 0 {
		c.PositionFlush = d.PositionFlush
	}
	if c.BcryptCost <= 0 {
		c.BcryptCost = d.BcryptCost
	}
	if c.HistoryRetention == 0 {
		c.HistoryRetention = d.HistoryRetention
	}
	if c.PurgeInterval <= 0 {
		c.PurgeInterval = d.PurgeInterval
	}
	if c.SendPerMinute == 0 {
		c.SendPerMinute = d.SendPerMinute
	}
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = d.RequestsPerSecond
	}
	if c.LoginFailuresPerMinute == 0 {
		c.LoginFailuresPerMinute = d.LoginFailuresPerMinute
	}
	if c.GroupDefaultMax <= 2 {
		c.GroupDefaultMax = d.GroupDefaultMax
	}
	if c.GroupMaxLimit < c.GroupDefaultMax {
		c.GroupMaxLimit = max(d.GroupMaxLimit, c.GroupDefaultMax)
	}
	if c.GroupsPerUser <= 0 {
		c.GroupsPerUser = d.GroupsPerUser
	}
	if c.GroupsOwnedPerUser <= 0 {
		c.GroupsOwnedPerUser = d.GroupsOwnedPerUser
	}
	if c.RetractWindow <= 0 {
		c.RetractWindow = d.RetractWindow
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Server serves the client protocol. Create it with New, mount Handler on
// an HTTP server, and Close it to end every connection and the write path.
type Server struct {
	cfg       Config
	store     store.Store
	log       *slog.Logger
	hub       *hub
	commits   *committer
	groups    *groupCache // owned by the committer goroutine
	pub       chan func() // the publisher's work, in commit order; closed after the committer ends
	users     *userCache
	words     *wordCache
	positions *positions
	devices   *devices
	metrics   *metrics
	signer    *mediaSigner
	social    socialCache // blacklists and group shields for the hot paths (socialcache.go)
	poller    *poller
	pollDone  chan struct{} // closed when the poller's goroutine has ended

	sendLimit  *windowLimiter // per user: messages per minute
	loginLimit *windowLimiter // per app and username: failed logins per minute

	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
	mu      sync.Mutex // guards closing, and wg.Add against Close's Wait
	closing bool
	wg      sync.WaitGroup // connections, the committer, the publisher, the position and device writers
}

// New starts a server on st. The server does not own st: close it after
// the server.
func New(cfg Config, st store.Store) (*Server, error) {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, store: st, log: cfg.Logger, hub: newHub(), ctx: ctx, cancel: cancel, metrics: newMetrics()}
	p, err := newPoller(func(c *conn) { c.readable() })
	if err != nil {
		cancel()
		return nil, fmt.Errorf("starting the connection poller: %w", err)
	}
	s.poller, s.pollDone = p, make(chan struct{})
	go func() {
		defer close(s.pollDone)
		p.run()
	}()
	s.metrics.watchSessions(s.hub)
	s.signer = newMediaSigner(s)
	s.users = newUserCache(st, 1<<17)
	s.words = newWordCache(st)
	s.groups = newGroupCache(st)
	s.pub = make(chan func(), 64)
	s.commits = &committer{in: make(chan any, 4*cfg.CommitBatchMax), st: st, max: cfg.CommitBatchMax,
		check: s.checkSend, route: s.route, publish: s.publish, post: s.post, log: cfg.Logger, metrics: s.metrics}
	s.positions = newPositions(st, cfg.PositionFlush, cfg.Logger)
	s.devices = newDevices(st, cfg.PositionFlush, cfg.Logger)
	s.sendLimit = newWindowLimiter(cfg.SendPerMinute, time.Minute)
	s.loginLimit = newWindowLimiter(cfg.LoginFailuresPerMinute, time.Minute)
	s.wg.Add(3)
	go func() {
		defer s.wg.Done()
		s.housekeeping(ctx)
	}()
	go func() {
		defer s.wg.Done()
		s.commits.run(ctx)
		close(s.pub) // the committer posts nothing more
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for f := range s.pub {
			f()
		}
	}()
	go func() {
		defer s.wg.Done()
		s.positions.run(ctx)
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.devices.run(ctx)
	}()
	return s, nil
}

// Handler returns the HTTP handler of the client protocol (Routes on a
// mux of its own).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Routes(mux)
	return mux
}

// Routes adds the client protocol's endpoints to mux: the WebSocket
// endpoint at /v1/ws, media uploads and downloads (docs/MEDIA.md), a
// health check at /healthz and Prometheus metrics at /metrics.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/ws", s.serveWS)
	mux.HandleFunc("POST /v1/media", s.handleUpload)
	mux.HandleFunc("POST /resource", s.handleUpload) // JMessage's upload path
	mux.HandleFunc("POST /v1/media/uploads", s.handleCreateUpload)
	mux.HandleFunc("HEAD /v1/media/uploads/{id}", s.handleUploadOffset)
	mux.HandleFunc("PATCH /v1/media/uploads/{id}", s.handleUploadPatch)
	mux.HandleFunc("GET /v1/media/get", s.handleDownload)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
}

// upgrader accepts WebSocket connections speaking the client protocol.
var upgrader = ws.HTTPUpgrader{
	Protocol: func(p string) bool { return p == wire.Subprotocol },
	Timeout:  10 * time.Second,
}

// serveWS upgrades the request and hands the connection to the poller;
// the HTTP server's goroutine and buffers are released when it returns.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1) // done by the connection's finish
	s.mu.Unlock()
	nc, rw, _, err := upgrader.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		s.wg.Done()
		return
	}
	sc, ok := nc.(syscall.Conn)
	var rc syscall.RawConn
	if ok {
		rc, err = sc.SyscallConn()
	}
	if !ok || err != nil {
		nc.Close()
		s.wg.Done()
		return
	}
	c := &conn{s: s, nc: nc, rc: rc, ctx: s.ctx, base: RequestBase(r)}
	c.qcond.L = &c.qmu
	rc.Control(func(fd uintptr) { c.fd = int(fd) })
	s.metrics.connections.Add(1)
	// Bytes the client sent right after the handshake are in rw's buffer.
	if n := rw.Reader.Buffered(); n > 0 {
		b, _ := rw.Reader.Peek(n)
		c.rmu.Lock()
		ok := c.take(append([]byte(nil), b...))
		c.rmu.Unlock()
		if !ok {
			c.close(ws.StatusGoingAway, "")
			return
		}
	}
	if err := s.poller.add(c); err != nil {
		c.close(ws.StatusGoingAway, "")
		return
	}
	if s.ctx.Err() != nil { // Close may have missed it
		c.close(ws.StatusGoingAway, "server shutting down")
	}
}

// Close ends every connection, stops the write path after it has committed
// what it holds, and waits for all of it.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.cancel()
	for _, c := range s.poller.all() {
		c.close(ws.StatusGoingAway, "server shutting down")
	}
	s.wg.Wait()
	s.poller.stop()
	<-s.pollDone
	return nil
}

// post hands work to the publisher goroutine; it keeps the order of posts.
// Only the committer goroutine posts.
func (s *Server) post(f func()) { s.pub <- f }
