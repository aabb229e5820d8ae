// Package media stores media blobs (images, voice, video, files) by key and
// provides the image helpers the upload path needs: content sniffing, image
// dimensions and thumbnails.
//
// A Store holds immutable objects: Put never replaces an existing key, so a
// reader that has opened an object sees the same bytes until it is deleted.
// Implementations are FS (local directory, the default) and S3 (any
// S3-compatible server); both pass the conformance suite in mediatest.
package media

import (
	"context"
	"errors"
	"io"
)

// Errors returned by every Store. They may be wrapped; test with errors.Is.
var (
	// ErrNotFound means no object is stored under the key.
	ErrNotFound = errors.New("media: not found")
	// ErrExists means Put found an object already stored under the key.
	ErrExists = errors.New("media: already exists")
	// ErrBadKey means the key does not satisfy ValidKey. It is returned
	// before any file system or network access.
	ErrBadKey = errors.New("media: bad key")
	// ErrRange means Open was asked for an offset outside [0, size].
	ErrRange = errors.New("media: offset out of range")
)

// Store holds media blobs by key. Objects are immutable once stored.
// Implementations are safe for concurrent use.
//
// Keys are paths: an object "a" and objects under "a/" must not both be
// stored. FS and S3 servers with file-system backends (MinIO, versitygw)
// refuse the second Put with an error, while AWS accepts it; callers
// avoid the question by never using an object key as a key prefix (jmsg
// uses "appKey/mediaID" and "appKey/mediaID.suffix").
type Store interface {
	// Put stores exactly size bytes read from r under key, replacing
	// nothing: if key exists it returns ErrExists. Bytes of r after the
	// first size are not read. If r ends before size bytes, Put fails.
	// It never buffers the whole object in memory. On error (including a
	// canceled ctx) nothing is left under key, and Put may be retried.
	Put(ctx context.Context, key string, r io.Reader, size int64) error

	// Open returns the object's bytes starting at offset, and the
	// object's total size (not size-offset). offset == size yields an
	// empty reader. It returns ErrNotFound if key is absent and ErrRange
	// if offset < 0 or offset > size. The caller must close the reader;
	// ctx governs the whole read for network stores.
	Open(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error)

	// Stat returns the object's size or ErrNotFound.
	Stat(ctx context.Context, key string) (int64, error)

	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}
