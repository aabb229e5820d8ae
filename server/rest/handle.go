package rest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// handlerFunc serves an authenticated request of app: it returns the
// success status and the reply (nil for none) or an error.
type handlerFunc func(r *http.Request, app store.App) (int, any, error)

// maxBody bounds a request body: 500 users of full profiles fit easily.
const maxBody = 4 << 20

// handle authenticates the request, applies the app's rate limit (with
// its headers on every answer), runs fn and writes its reply.
func (a *API) handle(fn handlerFunc, upload bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app, err := a.authenticate(r)
		if err != nil {
			writeError(w, err)
			return
		}
		quota, remaining, reset, ok := a.rates.take(app.AppKey, time.Now())
		h := w.Header()
		if quota > 0 {
			h.Set("X-Rate-Limit-Quota", strconv.Itoa(quota))
			h.Set("X-Rate-Limit-Limit", strconv.Itoa(quota))
			h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
			h.Set("X-Rate-Limit-Reset", strconv.Itoa(reset))
		}
		if !ok {
			writeError(w, fail(jmsg.RestRateLimitExceeded))
			return
		}
		if !upload { // an upload's size is the engine's to judge (898061)
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		status, body, err := fn(r, app)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) && !errors.Is(err, context.Canceled) {
				a.cfg.Logger.Error("REST request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
			return
		}
		if status == http.StatusNoContent || body == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, body)
	})
}

// authenticate checks HTTP Basic appKey:masterSecret. The app key is
// matched without regard to case, the secret exactly.
func (a *API) authenticate(r *http.Request) (store.App, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return store.App{}, fail(jmsg.RestMissingAuthenInfo)
	}
	key, secret, ok := r.BasicAuth()
	if !ok || key == "" {
		return store.App{}, fail(jmsg.RestBasicAuthFailed)
	}
	app, err := a.st.App(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		app, err = a.appFolded(r.Context(), key)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.App{}, fail(jmsg.RestAppkeyNotExist)
	}
	if err != nil {
		return store.App{}, err
	}
	if secret != app.MasterSecret {
		return store.App{}, fail(jmsg.RestBasicAuthFailed)
	}
	return app, nil
}

// appFolded finds the app whose key equals key without regard to case.
func (a *API) appFolded(ctx context.Context, key string) (store.App, error) {
	apps, err := a.st.ListApps(ctx)
	if err != nil {
		return store.App{}, err
	}
	for _, app := range apps {
		if strings.EqualFold(app.AppKey, key) {
			return app, nil
		}
	}
	return store.App{}, store.ErrNotFound
}
