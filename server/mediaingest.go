package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/media"
	"github.com/jmsg-im/jmsg/server/store"
)

// upload is a file being received: who sends it, of what kind, and where
// its bytes are staged.
type upload struct {
	AppKey    string         `json:"app_key"`
	UID       int64          `json:"uid"`
	Kind      jmsg.MediaKind `json:"kind"`
	Name      string         `json:"name"`
	Size      int64          `json:"size"` // resumable: the announced size
	ExpiresMs int64          `json:"expires_ms"`
}

// errNotImage refuses a type=image upload whose bytes are no image.
var errNotImage = errors.New("not an image")

// thumbSlots bounds the thumbnails made at once: decoding a large image
// takes a core for up to seconds.
var thumbSlots = make(chan struct{}, 2)

// ingest turns the staged file at path (size bytes) into a media object:
// it hashes the bytes, checks and sniffs them, stores them (once per app
// and content) with a thumbnail for JPEG, PNG and GIF images, and records
// the object under a new media id. The staged file is not removed.
func (s *Server) ingest(ctx context.Context, u upload, path string, size int64) (jmsg.MediaObject, error) {
	f, err := os.Open(path)
	if err != nil {
		return jmsg.MediaObject{}, err
	}
	defer f.Close()
	crc, sha := crc32.NewIEEE(), sha256.New()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return jmsg.MediaObject{}, err
	}
	if _, err := io.Copy(io.MultiWriter(crc, sha), f); err != nil {
		return jmsg.MediaObject{}, err
	}
	contentType, format := media.Sniff(head)
	rec := store.MediaRecord{
		MediaObject: jmsg.MediaObject{CRC32: crc.Sum32(), FSize: size, Format: format,
			Hash: hex.EncodeToString(sha.Sum(nil)), FName: u.Name},
		Kind: u.Kind, UploaderUID: u.UID, ContentType: contentType, CTimeMs: time.Now().UnixMilli(),
	}
	if u.Kind == jmsg.MediaImage {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return jmsg.MediaObject{}, err
		}
		fmtName, w, h, err := media.ImageInfo(f)
		if err != nil || w <= 0 || h <= 0 {
			return jmsg.MediaObject{}, errNotImage
		}
		rec.Width, rec.Height = w, h
		if rec.Format == "" {
			rec.Format = fmtName
		}
	}
	if prev, err := s.store.MediaByHash(ctx, u.AppKey, rec.Hash); err == nil && prev.Kind == u.Kind {
		rec.BlobKey, rec.ThumbKey, rec.ThumbCRC32, rec.ThumbSize = prev.BlobKey, prev.ThumbKey, prev.ThumbCRC32, prev.ThumbSize
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return jmsg.MediaObject{}, err
	} else {
		if err := s.storeBlob(ctx, u, f, &rec); err != nil {
			return jmsg.MediaObject{}, err
		}
	}
	for range 3 { // a collision of 160 random bits will not happen; still, never overwrite
		rec.MediaID = newMediaID(u.Kind)
		err = s.store.PutMedia(ctx, u.AppKey, rec)
		if !errors.Is(err, store.ErrExists) {
			break
		}
	}
	if err != nil {
		return jmsg.MediaObject{}, err
	}
	return rec.MediaObject, nil
}

// storeBlob puts the bytes of f, and a thumbnail for images that have
// one, into the media store under keys of the app and the content hash.
// A JPEG, PNG or GIF image whose pixels do not decode is refused
// (errNotImage) before anything is stored: its header alone passed
// ImageInfo, but no client could show it. One too big to decode
// (media.ErrImageTooBig) is kept, without a thumbnail.
func (s *Server) storeBlob(ctx context.Context, u upload, f *os.File, rec *store.MediaRecord) error {
	st := s.cfg.Media.Store
	rec.BlobKey = u.AppKey + "/" + rec.Hash + "." + string(u.Kind)
	var thumb []byte
	if u.Kind == jmsg.MediaImage && (rec.Format == "jpg" || rec.Format == "png" || rec.Format == "gif") {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		select {
		case thumbSlots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		data, _, _, _, err := media.Thumbnail(f, s.cfg.Media.ThumbnailSize)
		<-thumbSlots
		switch {
		case errors.Is(err, media.ErrNotImage):
			return errNotImage
		case err != nil:
			s.log.Warn("no thumbnail", "media", rec.BlobKey, "err", err) // the original is served instead
		default:
			thumb = data
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := st.Put(ctx, rec.BlobKey, f, rec.FSize); err != nil && !errors.Is(err, media.ErrExists) {
		return err
	}
	if thumb == nil {
		return nil
	}
	key := rec.BlobKey + ".thumb"
	if err := st.Put(ctx, key, bytes.NewReader(thumb), int64(len(thumb))); err != nil && !errors.Is(err, media.ErrExists) {
		return err
	}
	rec.ThumbKey, rec.ThumbCRC32, rec.ThumbSize = key, crc32.ChecksumIEEE(thumb), int64(len(thumb))
	return nil
}

// newMediaID returns a fresh media id of kind: jmsg/<kind>/<32 base32>.
func newMediaID(kind jmsg.MediaKind) string {
	b := make([]byte, 20)
	rand.Read(b)
	return "jmsg/" + string(kind) + "/" + base32.StdEncoding.EncodeToString(b)
}
