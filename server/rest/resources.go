package rest

import (
	"errors"
	"mime"
	"net/http"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/store"
)

func (a *API) resourceRoutes() []route {
	return []route{
		{method: "POST", path: "/v1/resource", upload: true, fn: a.uploadResource},
		{method: "GET", path: "/v1/resource", fn: a.resourceURL},
	}
}

// uploadResource is POST /v1/resource?type=image|file|voice: a multipart
// form whose file part (JMessage names it "filename") is the media; 200
// with the media object. Too large → 413 898061.
func (a *API) uploadResource(r *http.Request, app store.App) (int, any, error) {
	kind := jmsg.MediaKind(r.URL.Query().Get("type"))
	if !kind.Valid() {
		return 0, nil, badParam()
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return 0, nil, badParam()
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return 0, nil, badParam()
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return 0, nil, badParam() // no file part
		}
		if part.FileName() == "" {
			part.Close()
			continue
		}
		obj, err := a.eng.UploadMedia(r.Context(), app.AppKey, 0, kind, part.FileName(), part)
		switch {
		case errors.Is(err, server.ErrMediaTooLarge):
			e := fail(jmsg.HttpFileSizeExceedLimit)
			e.status = http.StatusRequestEntityTooLarge
			return 0, nil, e
		case errors.Is(err, server.ErrMediaEmpty), errors.Is(err, server.ErrNotImage):
			return 0, nil, badParam()
		case err != nil:
			return 0, nil, err
		}
		return http.StatusOK, obj, nil
	}
}

// resourceURL is GET /v1/resource?mediaId=: 200 {"url"}, a signed,
// short-lived download URL; an unknown id → 403 899003.
func (a *API) resourceURL(r *http.Request, app store.App) (int, any, error) {
	id := r.URL.Query().Get("mediaId")
	if id == "" {
		return 0, nil, badParam()
	}
	u, err := a.eng.MediaURL(r.Context(), app.AppKey, id, false, server.RequestBase(r))
	if errors.Is(err, store.ErrNotFound) {
		e := badParam()
		e.status = http.StatusForbidden
		return 0, nil, e
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"url": u}, nil
}
