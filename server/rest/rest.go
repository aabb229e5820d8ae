// Package rest is JMessage's REST API v1 (and its v2 endpoints) on jmsgd:
// the server-to-server API app back-ends call with their app key and
// master secret (shared/spec/rest-v1.md, docs/REST.md). It has the same
// paths, methods, JSON field names, status codes and error codes as
// JMessage's, and acts through the engine, so that what it does reaches
// online clients the way their own requests do.
package rest

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/store"
)

// Config holds the REST API's settings; zero values mean the defaults.
type Config struct {
	RatePerMinute int            // calls per app key per minute; default 600; negative: no limit
	Location      *time.Location // zone of the "yyyy-MM-dd HH:mm:ss" times in replies; default Asia/Shanghai
	Logger        *slog.Logger
}

// API serves the REST API of one engine.
type API struct {
	eng   *server.Server
	st    store.Store
	cfg   Config
	rates *rateLimiter
}

// New returns the REST API of eng, whose store is st.
func New(eng *server.Server, st store.Store, cfg Config) *API {
	if cfg.RatePerMinute == 0 {
		cfg.RatePerMinute = 600
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		cfg.Location = loc
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &API{eng: eng, st: st, cfg: cfg, rates: newRateLimiter(cfg.RatePerMinute, time.Minute)}
}

// Register adds the API's routes to mux, and answers paths under /v1/
// and /v2/ that none serves with 404 and the error envelope (899003)
// instead of a plain-text page.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range a.routes() {
		for _, p := range rt.paths() {
			mux.Handle(rt.method+" "+p, a.handle(rt.fn, rt.upload))
		}
	}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"code": jmsg.RestParameterInvalid, "message": "no such endpoint: " + r.Method + " " + r.URL.Path}})
	}
	mux.HandleFunc("/v1/", notFound)
	mux.HandleFunc("/v2/", notFound)
}

// route is one endpoint: a method and a path as JMessage documents it.
// A path ending in "/" is also served without it, and the other way
// round; a path marked bare is also served without its /v1 prefix.
type route struct {
	method string
	path   string
	bare   bool
	upload bool // the body is a media upload: bounded by media.max_upload_bytes, not maxBody
	fn     handlerFunc
}

// paths returns the ServeMux patterns of rt: with and without a trailing
// slash ({$} so that "/v1/users/" does not match a whole subtree), and
// without /v1 when the documentation prints it so.
func (rt route) paths() []string {
	base := strings.TrimSuffix(rt.path, "/")
	out := []string{base, base + "/{$}"}
	if rt.bare {
		b := strings.TrimPrefix(base, "/v1")
		out = append(out, b, b+"/{$}")
	}
	return out
}
