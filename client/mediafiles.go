package client

import (
	"context"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/jmsg-im/jmsg"
)

// The SDK's media files live in the user's directory, next to the
// database (DataDir/<appKey>/<username>/):
//
//	media/sent/<client msg id>[-thumb].<ext>   copies of files sent from this device
//	media/<kind>/<id>[-thumb].<ext>            downloads, named by media id
//
// The database records them relative to that directory, so a data
// directory can move.
const (
	mediaDir = "media"
	sentDir  = "sent"
)

// absPath resolves a stored relative path; "" stays "".
func absPath(dir, rel string) string {
	if rel == "" {
		return ""
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}

// relPath returns abs relative to dir, or false when it is not inside.
func relPath(dir, abs string) (string, bool) {
	if abs == "" {
		return "", false
	}
	rel, err := filepath.Rel(dir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// extOf returns a safe file extension (".png") for a format or a file
// name's extension: 1–10 ASCII letters and digits, lower-cased; "" if
// there is none.
func extOf(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ToLower(s)
	if s == "" || len(s) > 10 {
		return ""
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return ""
		}
	}
	return "." + s
}

// copyMedia copies src to dst (created with its directory, replaced
// atomically, synced) and returns its size and CRC-32. Errors: 864002 (src
// missing), 864005 (src empty), 869999 (writing).
func copyMedia(dst, src string) (int64, uint32, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, 0, jmsg.Wrap(jmsg.SDKMediaResourceMissing, err)
	}
	defer in.Close()
	if fi, err := in.Stat(); err != nil || !fi.Mode().IsRegular() {
		return 0, 0, jmsg.Errorf(jmsg.SDKMediaResourceMissing, "%s is not a regular file", src)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return 0, 0, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return 0, 0, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	h := crc32.NewIEEE()
	n, err := io.Copy(io.MultiWriter(tmp, h), in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	if n == 0 {
		return 0, 0, jmsg.Errorf(jmsg.SDKMediaUploadEmptyFile, "%s is empty", src)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return 0, 0, jmsg.Wrap(jmsg.SDKUnknownError, err)
	}
	return n, h.Sum32(), nil
}

// fileCRC returns the size and CRC-32 of a file.
func fileCRC(path string) (int64, uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	h := crc32.NewIEEE()
	n, err := io.Copy(h, f)
	return n, h.Sum32(), err
}

// keyedMutex serialises work on one key (a download's destination).
type keyedMutex struct {
	mu    sync.Mutex // guards locks
	locks map[string]*keyedLock
}

type keyedLock struct {
	ch   chan struct{} // capacity 1: held when full
	refs int
}

// lock takes key's lock, or fails when ctx ends first; unlock releases it.
func (k *keyedMutex) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{ch: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	release := func() {
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// errCanceled tells a cancellation from other failures.
func isCanceled(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled)
}

// uploadGrowth is how many bytes an upload's answer may add to a media
// object in a message (media id, hash, format, dimensions): CreateMessage
// counts them against the message size limit before the upload.
const uploadGrowth = 192

// mediaLocal are the local copies CreateMessage made for a media message:
// the paths to record (relative to the user's directory) and the files it
// created, removed if the message is not stored after all.
type mediaLocal struct {
	media, thumb string
	created      []string
}

func (l mediaLocal) remove() {
	for _, p := range l.created {
		os.Remove(p)
	}
}

// prepareMedia copies the parts of mc that are not uploaded yet into
// dir/media/sent (named by the message's client id), points mc at the
// copies and fills in their sizes and CRC-32s. Parts that carry media ids
// (forwarded) are left alone; their local paths are recorded only when
// they are inside dir.
func prepareMedia(dir string, mc MediaContent, cid string) (mediaLocal, error) {
	var l mediaLocal
	for _, p := range mc.parts() {
		if p.obj.MediaID != "" {
			continue
		}
		src := *p.path
		if src == "" {
			l.remove()
			return mediaLocal{}, jmsg.Errorf(jmsg.SDKMediaResourceMissing, "no file given for the %s", p.name)
		}
		suffix := ""
		if p.name == partThumb {
			suffix = "-thumb"
		}
		dst := filepath.Join(dir, mediaDir, sentDir, cid+suffix+extOf(baseName(src)))
		size, crc, err := copyMedia(dst, src)
		if err != nil {
			l.remove()
			return mediaLocal{}, err
		}
		l.created = append(l.created, dst)
		p.obj.FSize, p.obj.CRC32 = size, crc
		*p.path = dst
	}
	l.media, _ = relPath(dir, mc.LocalPath())
	switch c := mc.(type) {
	case *ImageContent:
		l.thumb, _ = relPath(dir, c.ThumbPath)
	case *VideoContent:
		l.thumb, _ = relPath(dir, c.ThumbPath)
	}
	return l, nil
}
