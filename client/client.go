// Package client is jmsg's Go SDK: the capabilities of JMessage's iOS SDK in
// Go idioms. A Client connects to jmsgd over the client protocol (package
// wire), keeps a local SQLite database per user with conversations and
// messages, and reports what happens through Events.
//
// Every error the SDK returns is (or wraps) a *jmsg.Error carrying a
// JMessage code: local checks use the iOS SDK's 86xxxx codes, and server
// codes pass through unchanged. Use errors.As to read the code.
//
// A Client is safe for concurrent use.
package client

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

// Config configures a Client.
type Config struct {
	AppKey    string // 24 ASCII letters and digits (861100 otherwise)
	ServerURL string // jmsgd's base URL, e.g. http://127.0.0.1:8190
	DataDir   string // where the local databases live; created if missing
	// Platform is the device platform letter: "a" Android, "i" iOS, "j"
	// web, "w" Windows/PC (the default). A second login of the same user on
	// the same platform ends the first session.
	Platform string
	// Roaming makes a device that logs in for the first time download the
	// history its user received on other devices (reported per
	// conversation with RoamingSynced). Without it a new device gets only
	// the messages no device has received yet (OfflineMessages). As in
	// JMessage, it is off by default.
	Roaming bool
	// RetractWindow is how long after a message is sent its sender may
	// retract it: jmsgd's retract_window, 3 minutes by default (set it to
	// the server's value if that differs). A device offline while a
	// message was retracted misses the retraction's event; after each
	// reconnection the SDK re-reads the messages it holds that were still
	// retractable when it lost the connection, and applies the
	// retractions it finds (MessageRetracted).
	RetractWindow time.Duration
	// RequestTimeout bounds each request to the server; default 30s. A
	// media upload or download fails when it moves no byte for this long.
	RequestTimeout time.Duration
	// ResumableThreshold is the size in bytes above which media files are
	// uploaded with jmsgd's resumable protocol, which survives dropped
	// connections and process restarts; smaller files go in one request.
	// Default 1 MiB.
	ResumableThreshold int64
	// HTTPClient carries media uploads and downloads; nil uses a client of
	// the SDK's own. Its Timeout should be 0: uploads and downloads of
	// large files take long, and stalls are caught by RequestTimeout.
	HTTPClient *http.Client
	// Logger receives the SDK's logs; nil logs nothing.
	Logger *slog.Logger
}

// Client is a jmsg SDK client. Create it with New and release it with
// Close.
type Client struct {
	cfg      Config
	endpoint string
	log      *slog.Logger
	events   *eventQueue
	requests atomic.Int64 // requests sent, for Stats
	media    *mediaHTTP
	ownHTTP  *http.Transport // the transport of the SDK's own HTTP client; nil with Config.HTTPClient

	mu     sync.Mutex // guards state and sess
	state  loginState
	sess   *session // the logged-in session; nil when logged out
	closed bool
}

type loginState int

const (
	loggedOut loginState = iota
	loggingIn
	loggedIn
	loggingOut
)

// New validates cfg and returns a client. It fails with 861100 for an app
// key that is not 24 ASCII letters and digits, and 861101 for a missing
// server URL or data directory.
func New(cfg Config) (*Client, error) {
	if !jmsg.ValidAppKey(cfg.AppKey) {
		return nil, jmsg.E(jmsg.SDKParamAppkeyInvalid)
	}
	if cfg.ServerURL == "" || cfg.DataDir == "" {
		return nil, jmsg.Errorf(jmsg.SDKParamInternalInvalid, "ServerURL and DataDir are required")
	}
	endpoint, err := wsURL(cfg.ServerURL)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKParamInternalInvalid, err)
	}
	switch cfg.Platform {
	case "":
		cfg.Platform = wire.PlatformWindows
	case wire.PlatformAndroid, wire.PlatformIOS, wire.PlatformWeb, wire.PlatformWindows:
	default:
		return nil, jmsg.Errorf(jmsg.SDKParamInternalInvalid, "unknown platform %q", cfg.Platform)
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.RetractWindow <= 0 {
		cfg.RetractWindow = 3 * time.Minute
	}
	if cfg.ResumableThreshold <= 0 {
		cfg.ResumableThreshold = 1 << 20
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, endpoint: endpoint, log: log, events: newEventQueue()}
	hc := cfg.HTTPClient
	if hc == nil {
		c.ownHTTP = http.DefaultTransport.(*http.Transport).Clone()
		hc = &http.Client{Transport: c.ownHTTP}
	}
	c.media = &mediaHTTP{hc: hc, idle: cfg.RequestTimeout, attempts: 4, retryBase: 250 * time.Millisecond}
	return c, nil
}

// Events returns the channel of events. It is closed by Close. Events are
// buffered without bound, so the SDK never waits for the app, but an app
// should keep reading.
func (c *Client) Events() <-chan Event { return c.events.out }

func (c *Client) emit(e Event) { c.events.push(e) }

// Stats are counters of a client's traffic.
type Stats struct {
	Requests int64 // requests sent to the server since New
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats { return Stats{Requests: c.requests.Load()} }

// DatabasePath returns the path of the local database of username:
// DataDir/<appKey>/<username>/jmsg.db.
func (c *Client) DatabasePath(username string) string {
	return filepath.Join(c.cfg.DataDir, c.cfg.AppKey, username, "jmsg.db")
}

// userDir is the directory of username's database and media files.
func (c *Client) userDir(username string) string {
	return filepath.Dir(c.DatabasePath(username))
}

func (c *Client) ensureDir(username string) error {
	return os.MkdirAll(filepath.Dir(c.DatabasePath(username)), 0o700)
}

// Close logs the session out locally (the server session ends with the
// connection), stops every goroutine of the client and closes Events.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	s := c.sess
	c.sess, c.state = nil, loggedOut
	c.mu.Unlock()
	if s != nil {
		s.stop()
	}
	if c.ownHTTP != nil {
		c.ownHTTP.CloseIdleConnections()
	}
	c.events.close()
	return nil
}

// session returns the logged-in session or 863004.
func (c *Client) session() (*session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != loggedIn || c.sess == nil {
		return nil, jmsg.E(jmsg.SDKUserNotLogin)
	}
	return c.sess, nil
}

// sessionEnded is called by a session that ends on its own (kicked): the
// client becomes logged out and the app is told why.
func (c *Client) sessionEnded(s *session, reason LoginReason) {
	c.mu.Lock()
	if c.sess == s {
		c.sess, c.state = nil, loggedOut
	}
	c.mu.Unlock()
	c.emit(LoginStateChanged{Reason: reason})
}

// checkCtx returns 861101 for a nil context.
func checkCtx(ctx context.Context) error {
	if ctx == nil {
		return jmsg.Errorf(jmsg.SDKParamInternalInvalid, "nil context")
	}
	return nil
}

// withTimeout bounds a request by the configured timeout.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.RequestTimeout)
}
