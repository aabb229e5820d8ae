package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// errNoMedia answers media requests of a server without a media store.
var errNoMedia = jmsg.WithMessage(jmsg.TcpServerInternalError, "media is not configured")

// RequestBase returns scheme://host of r, as the client reached it: the
// base of the media URLs handed to it.
func RequestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// mediaBase is the base of media URLs for a client that reached the
// server at base.
func (s *Server) mediaBase(base string) string {
	if s.cfg.Media.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.Media.PublicURL, "/")
	}
	return base
}

func handleGetUploadToken(c *conn, f *wire.Frame) (any, error) {
	if c.s.cfg.Media.Store == nil {
		return nil, errNoMedia
	}
	exp := time.Now().Add(c.s.cfg.Media.UploadTokenTTL)
	tok, err := c.s.signer.uploadToken(c.appKey, c.uid, exp)
	if err != nil {
		return nil, err
	}
	return wire.UploadTokenResp{UpToken: tok, ExpiresMs: exp.UnixMilli(), UploadURL: c.s.mediaBase(c.base) + "/v1/media"}, nil
}

// handleGetResource answers a signed download URL of a media id the user
// may read (docs/MEDIA.md: uploader, member of a conversation carrying it,
// or an avatar); others get 800020, whether or not the id exists.
func handleGetResource(c *conn, f *wire.Frame) (any, error) {
	var req wire.ResourceReq
	if err := wire.DecodeData(f, &req); err != nil {
		return nil, err
	}
	if c.s.cfg.Media.Store == nil {
		return nil, errNoMedia
	}
	if _, ok := jmsg.ParseMediaID(req.MediaID); !ok {
		return nil, jmsg.WithMessage(jmsg.ServerInvalidRequest, "not a media id")
	}
	ok, err := c.s.store.CanReadMedia(c.ctx, c.appKey, req.MediaID, c.uid)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, jmsg.E(jmsg.ServerRequestUserNoPermission)
	}
	rec, err := c.s.store.Media(c.ctx, c.appKey, req.MediaID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, jmsg.E(jmsg.ServerRequestUserNoPermission)
	} else if err != nil {
		return nil, err
	}
	variant, crc, size := "o", rec.CRC32, rec.FSize
	if req.Thumb && rec.ThumbKey != "" {
		variant, crc, size = "t", rec.ThumbCRC32, rec.ThumbSize
	}
	q, err := c.s.signer.downloadQuery(c.appKey, req.MediaID, variant, time.Now().Add(c.s.cfg.Media.URLTTL))
	if err != nil {
		return nil, err
	}
	return wire.ResourceResp{URL: c.s.mediaBase(c.base) + "/v1/media/get?" + q, CRC32: crc, FSize: size}, nil
}

// checkMedia checks the media a message body carries against their
// uploads: each id must name a media object of the app of the kind its
// place needs, with the CRC-32 and size the upload recorded (803011
// otherwise). It returns the ids.
func (c *conn) checkMedia(msgType string, body []byte) ([]string, error) {
	refs := jmsg.MediaRefs(msgType, body)
	if len(refs) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(refs))
	for _, ref := range refs {
		rec, err := c.s.store.Media(c.ctx, c.appKey, ref.Object.MediaID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, jmsg.WithMessage(jmsg.ServerMessageContentJSONError, "unknown media "+ref.Object.MediaID)
		} else if err != nil {
			return nil, err
		}
		if rec.Kind != ref.Kind || rec.CRC32 != ref.Object.CRC32 || rec.FSize != ref.Object.FSize {
			return nil, jmsg.WithMessage(jmsg.ServerMessageContentJSONError, "media "+ref.Object.MediaID+" does not match its upload (kind, media_crc32 or fsize)")
		}
		ids = append(ids, ref.Object.MediaID)
	}
	return ids, nil
}

// checkAvatar refuses to make a media id an avatar unless c's user may
// read it: an avatar is readable by everyone of the app, so naming someone
// else's private media would publish it (800020).
func (c *conn) checkAvatar(avatar string) error {
	if _, ok := jmsg.ParseMediaID(avatar); !ok {
		return nil // not a media id: nothing to publish
	}
	ok, err := c.s.store.CanReadMedia(c.ctx, c.appKey, avatar, c.uid)
	if err != nil {
		return err
	}
	if !ok {
		return jmsg.E(jmsg.ServerRequestUserNoPermission)
	}
	return nil
}
