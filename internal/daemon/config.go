// Package daemon wires jmsgd together: configuration, the data directory,
// the store, the engine and the HTTP listener.
package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/media"
)

// Config is jmsgd's configuration. Every key is optional; DefaultConfig
// holds the defaults, a TOML file (docs/CONFIG.md) overrides them, and
// command-line flags override the file.
type Config struct {
	Addr     string `toml:"addr"`      // listen address
	DataDir  string `toml:"data"`      // data directory
	LogLevel string `toml:"log_level"` // debug, info, warn, error
	// PprofAddr serves Go's profiler (net/http/pprof) on this address when
	// set, e.g. "127.0.0.1:6060". Off by default.
	PprofAddr string `toml:"pprof_addr"`

	MaxFrameBytes  int      `toml:"max_frame_bytes"`
	SendQueue      int      `toml:"send_queue"`
	WriteTimeout   Duration `toml:"write_timeout"`
	CommitBatchMax int      `toml:"commit_batch_max"`
	BcryptCost     int      `toml:"bcrypt_cost"`

	HistoryRetention       Duration `toml:"history_retention"`
	PurgeInterval          Duration `toml:"purge_interval"`
	SendPerMinute          int      `toml:"send_per_minute"`
	RequestsPerSecond      int      `toml:"requests_per_second"`
	LoginFailuresPerMinute int      `toml:"login_failures_per_minute"`

	GroupDefaultMax    int `toml:"group_default_max_members"`
	GroupMaxLimit      int `toml:"group_max_members_limit"`
	GroupsPerUser      int `toml:"groups_per_user"`
	GroupsOwnedPerUser int `toml:"groups_owned_per_user"`

	RetractWindow Duration `toml:"retract_window"`

	Media MediaConfig `toml:"media"`
	REST  RESTConfig  `toml:"rest"`
}

// RESTConfig is the [rest] table.
type RESTConfig struct {
	RatePerMinute int    `toml:"rate_per_minute"` // calls per app key per minute; -1: no limit
	TimeZone      string `toml:"time_zone"`       // IANA zone of the times in replies
}

// restLocation loads the REST API's time zone.
func (c Config) restLocation() (*time.Location, error) {
	loc, err := time.LoadLocation(c.REST.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("rest.time_zone %q: %w", c.REST.TimeZone, err)
	}
	return loc, nil
}

// MediaConfig is the [media] table (docs/MEDIA.md).
type MediaConfig struct {
	Store          string   `toml:"store"` // "fs" (default) or "s3"
	Dir            string   `toml:"dir"`   // fs: default <data>/media
	MaxUploadBytes int64    `toml:"max_upload_bytes"`
	UploadTokenTTL Duration `toml:"upload_token_ttl"`
	URLTTL         Duration `toml:"url_ttl"`
	ThumbnailSize  int      `toml:"thumbnail_size"`
	PublicURL      string   `toml:"public_url"`
	S3             S3Config `toml:"s3"`
}

// S3Config is the [media.s3] table.
type S3Config struct {
	Endpoint  string `toml:"endpoint"`
	Bucket    string `toml:"bucket"`
	Region    string `toml:"region"`
	AccessKey string `toml:"access_key"`
	SecretKey string `toml:"secret_key"`
	UseSSL    bool   `toml:"use_ssl"`
	Prefix    string `toml:"prefix"`
}

// Duration is a time.Duration written as "10s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string, or a number of days such as
// "60d".
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return fmt.Errorf("bad duration %q", s)
		}
		d.Duration = time.Duration(n) * 24 * time.Hour
		return nil
	}
	v, err := time.ParseDuration(s)
	d.Duration = v
	return err
}

// DefaultConfig returns the defaults: listen on 127.0.0.1:8190, data in
// ./jmsg-data, and the engine's defaults.
func DefaultConfig() Config {
	e := server.DefaultConfig()
	return Config{
		Addr:           "127.0.0.1:8190",
		DataDir:        "jmsg-data",
		LogLevel:       "info",
		MaxFrameBytes:  e.MaxFrameBytes,
		SendQueue:      e.SendQueue,
		WriteTimeout:   Duration{e.WriteTimeout},
		CommitBatchMax: e.CommitBatchMax,
		BcryptCost:     e.BcryptCost,

		HistoryRetention:       Duration{e.HistoryRetention},
		PurgeInterval:          Duration{e.PurgeInterval},
		SendPerMinute:          e.SendPerMinute,
		RequestsPerSecond:      e.RequestsPerSecond,
		LoginFailuresPerMinute: e.LoginFailuresPerMinute,

		GroupDefaultMax:    e.GroupDefaultMax,
		GroupMaxLimit:      e.GroupMaxLimit,
		GroupsPerUser:      e.GroupsPerUser,
		GroupsOwnedPerUser: e.GroupsOwnedPerUser,
		RetractWindow:      Duration{e.RetractWindow},

		REST: RESTConfig{RatePerMinute: 600, TimeZone: "Asia/Shanghai"},
		Media: MediaConfig{
			Store:          "fs",
			MaxUploadBytes: 8 << 20,
			UploadTokenTTL: Duration{time.Hour},
			URLTTL:         Duration{time.Hour},
			ThumbnailSize:  320,
		},
	}
}

// LoadFile overlays the keys set in the TOML file at path onto c. Unknown
// keys are an error, so that a typo does not pass silently.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	md, err := toml.Decode(string(b), c)
	if err != nil {
		return fmt.Errorf("parsing config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return fmt.Errorf("config %s: unknown key %q", path, und[0].String())
	}
	return nil
}

func (c Config) engine() server.Config {
	return server.Config{
		MaxFrameBytes:  c.MaxFrameBytes,
		SendQueue:      c.SendQueue,
		WriteTimeout:   c.WriteTimeout.Duration,
		CommitBatchMax: c.CommitBatchMax,
		BcryptCost:     c.BcryptCost,

		HistoryRetention:       c.HistoryRetention.Duration,
		PurgeInterval:          c.PurgeInterval.Duration,
		SendPerMinute:          c.SendPerMinute,
		RequestsPerSecond:      c.RequestsPerSecond,
		LoginFailuresPerMinute: c.LoginFailuresPerMinute,

		GroupDefaultMax:    c.GroupDefaultMax,
		GroupMaxLimit:      c.GroupMaxLimit,
		GroupsPerUser:      c.GroupsPerUser,
		GroupsOwnedPerUser: c.GroupsOwnedPerUser,
		RetractWindow:      c.RetractWindow.Duration,

		Media: server.MediaConfig{
			StagingDir:     filepath.Join(c.DataDir, "uploads"),
			MaxUploadBytes: c.Media.MaxUploadBytes,
			UploadTokenTTL: c.Media.UploadTokenTTL.Duration,
			URLTTL:         c.Media.URLTTL.Duration,
			ThumbnailSize:  c.Media.ThumbnailSize,
			PublicURL:      c.Media.PublicURL,
		},
	}
}

// mediaStore opens the configured media store.
func (c Config) mediaStore() (media.Store, error) {
	switch c.Media.Store {
	case "", "fs":
		dir := c.Media.Dir
		if dir == "" {
			dir = filepath.Join(c.DataDir, "media")
		}
		return media.NewFS(dir)
	case "s3":
		s := c.Media.S3
		return media.NewS3(media.S3Config{Endpoint: s.Endpoint, Bucket: s.Bucket, Region: s.Region,
			AccessKey: s.AccessKey, SecretKey: s.SecretKey, UseSSL: s.UseSSL, Prefix: s.Prefix})
	}
	return nil, fmt.Errorf("media.store is %q: want \"fs\" or \"s3\"", c.Media.Store)
}
