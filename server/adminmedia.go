package server

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// Errors of UploadMedia and MediaURL.
var (
	ErrMediaNotConfigured = errors.New("media is not configured")
	ErrMediaTooLarge      = errors.New("media larger than the upload limit")
	ErrMediaEmpty         = errors.New("empty media")
	ErrNotImage           = errNotImage
)

// UploadMedia stores the bytes of body as media of kind uploaded by uid of
// appKey (0: the app's back-end, through the REST API) and returns its
// media object: the same checks, thumbnails and deduplication as an upload
// from a client.
func (s *Server) UploadMedia(ctx context.Context, appKey string, uid int64, kind jmsg.MediaKind, name string, body io.Reader) (jmsg.MediaObject, error) {
	if s.cfg.Media.Store == nil {
		return jmsg.MediaObject{}, ErrMediaNotConfigured
	}
	path, f, err := s.stagingFile()
	if err != nil {
		return jmsg.MediaObject{}, err
	}
	defer os.Remove(path)
	max := s.cfg.Media.MaxUploadBytes
	n, err := io.Copy(f, io.LimitReader(body, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return jmsg.MediaObject{}, err
	case n > max:
		return jmsg.MediaObject{}, ErrMediaTooLarge
	case n == 0:
		return jmsg.MediaObject{}, ErrMediaEmpty
	}
	obj, err := s.ingest(ctx, upload{AppKey: appKey, UID: uid, Kind: kind, Name: cleanFileName(name)}, path, n)
	if err == nil {
		s.metrics.mediaUploads.Add(1)
	}
	return obj, err
}

// MediaURL returns a signed download URL of mediaID of appKey (of its
// thumbnail when thumb and it has one) for a caller that reached the
// server at base (scheme://host; media.public_url wins when set).
// store.ErrNotFound for an unknown id.
func (s *Server) MediaURL(ctx context.Context, appKey, mediaID string, thumb bool, base string) (string, error) {
	if s.cfg.Media.Store == nil {
		return "", ErrMediaNotConfigured
	}
	if _, ok := jmsg.ParseMediaID(mediaID); !ok {
		return "", store.ErrNotFound
	}
	rec, err := s.store.Media(ctx, appKey, mediaID)
	if err != nil {
		return "", err
	}
	variant := "o"
	if thumb && rec.ThumbKey != "" {
		variant = "t"
	}
	q, err := s.signer.downloadQuery(appKey, mediaID, variant, time.Now().Add(s.cfg.Media.URLTTL))
	if err != nil {
		return "", err
	}
	return s.mediaBase(base) + "/v1/media/get?" + q, nil
}
