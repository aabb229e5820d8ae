package server

import (
	"context"
	"errors"
	"fmt"
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

// errStaging wraps a failure to write an upload to the staging directory:
// the server's fault, not the client's.
var errStaging = errors.New("staging an upload")

// stage copies the bytes of r, at most media.max_upload_bytes, into a new
// file of the staging directory and returns its path and size. Too many
// bytes is ErrMediaTooLarge, none ErrMediaEmpty; then no file is left.
func (s *Server) stage(r io.Reader) (string, int64, error) {
	path, f, err := s.stagingFile()
	if err != nil {
		return "", 0, fmt.Errorf("%w: %w", errStaging, err)
	}
	max := s.cfg.Media.MaxUploadBytes
	n, err := io.Copy(f, io.LimitReader(r, max+1))
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%w: %w", errStaging, cerr)
	}
	switch {
	case err != nil:
	case n > max:
		err = ErrMediaTooLarge
	case n == 0:
		err = ErrMediaEmpty
	}
	if err != nil {
		os.Remove(path)
		return "", 0, err
	}
	return path, n, nil
}

// UploadMedia stores the bytes of body as media of kind uploaded by uid of
// appKey (0: the app's back-end, through the REST API) and returns its
// media object: the same checks, thumbnails and deduplication as an upload
// from a client.
func (s *Server) UploadMedia(ctx context.Context, appKey string, uid int64, kind jmsg.MediaKind, name string, body io.Reader) (jmsg.MediaObject, error) {
	if s.cfg.Media.Store == nil {
		return jmsg.MediaObject{}, ErrMediaNotConfigured
	}
	path, n, err := s.stage(body)
	if err != nil {
		return jmsg.MediaObject{}, err
	}
	defer os.Remove(path)
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
