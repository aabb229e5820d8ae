package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3 store keeps its objects.
type S3Config struct {
	// Endpoint is host:port of the S3 server, without a scheme.
	Endpoint string
	// Region of the bucket; "" lets the client ask the server.
	Region string
	// Bucket must exist; NewS3 does not create it.
	Bucket    string
	AccessKey string
	SecretKey string
	// UseSSL selects https.
	UseSSL bool
	// Prefix, if not empty, is prepended to every key with a '/' between,
	// so several deployments can share a bucket. It must itself satisfy
	// ValidKey; a trailing '/' is ignored.
	Prefix string
}

// S3 is a Store in a bucket of an S3-compatible server, addressed
// path-style (http://endpoint/bucket/prefix/key), so it works with MinIO,
// versitygw, Ceph and AWS alike.
//
// Put is a single streamed PUT (no multipart upload, so at most 5 GiB on
// AWS) and cannot be retried by the client library: the reader is consumed
// once. Put refuses an existing key twice: a HEAD before the upload avoids
// sending bytes for nothing, and the PUT carries "If-None-Match: *" so that
// a server with conditional writes (AWS since 2024, MinIO, versitygw)
// rejects the loser of two concurrent Puts of one key. On a server that
// ignores the header, the later of two racing Puts replaces the earlier
// one. As with any network write, a transport error leaves the outcome
// unknown; Put then reports ErrExists if the key exists afterwards.
type S3 struct {
	core   minio.Core
	bucket string
	prefix string
}

var _ Store = (*S3)(nil)

// NewS3 returns a Store for cfg. It makes no request: a wrong endpoint,
// bucket or credentials show up as errors of the first call.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("media: S3 endpoint and bucket are required")
	}
	prefix := strings.TrimSuffix(cfg.Prefix, "/")
	if prefix != "" {
		if err := ValidKey(prefix); err != nil {
			return nil, fmt.Errorf("media: S3 prefix: %w", err)
		}
		prefix += "/"
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.UseSSL,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("media: S3 client: %w", err)
	}
	return &S3{core: minio.Core{Client: client}, bucket: cfg.Bucket, prefix: prefix}, nil
}

func (s *S3) name(key string) string { return s.prefix + key }

// s3Err translates an S3 error code into the Store's errors.
func s3Err(op, key string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey:
		return ErrNotFound
	case minio.PreconditionFailed:
		return ErrExists
	}
	return fmt.Errorf("media: %s %s: %w", op, key, err)
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("media: put %s: negative size %d", key, size)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	switch _, err := s.Stat(ctx, key); {
	case err == nil:
		return ErrExists
	case !errors.Is(err, ErrNotFound):
		return err
	}
	opts := minio.PutObjectOptions{DisableMultipart: true, ContentType: "application/octet-stream"}
	opts.SetMatchETagExcept("*")
	_, err := s.core.Client.PutObject(ctx, s.bucket, s.name(key), newExactReader(ctx, r, size), size, opts)
	if err == nil {
		return nil
	}
	err = s3Err("put", key, err)
	if !errors.Is(err, ErrExists) && ctx.Err() == nil {
		// A server refusing the PUT with 412 may close the connection
		// before the client reads the answer, so a lost race can look
		// like a transport error.
		if _, serr := s.Stat(ctx, key); serr == nil {
			return ErrExists
		}
	}
	return err
}

// Open implements Store with one GET, ranged when offset > 0.
func (s *S3) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := ValidKey(key); err != nil {
		return nil, 0, err
	}
	if offset < 0 {
		return nil, 0, fmt.Errorf("%w: offset %d", ErrRange, offset)
	}
	var opts minio.GetObjectOptions
	if offset > 0 {
		if err := opts.SetRange(offset, 0); err != nil {
			return nil, 0, fmt.Errorf("media: open %s: %w", key, err)
		}
	}
	body, info, hdr, err := s.core.GetObject(ctx, s.bucket, s.name(key), opts)
	if minio.ToErrorResponse(err).Code == minio.InvalidRange {
		return s.openAtEnd(ctx, key, offset)
	}
	if err != nil {
		return nil, 0, s3Err("open", key, err)
	}
	if offset == 0 {
		return body, info.Size, nil
	}
	total, ok := contentRangeTotal(hdr.Get("Content-Range"))
	if ok {
		return body, total, nil
	}
	// The server ignored the Range header and sent the whole object.
	if _, err := io.CopyN(io.Discard, body, offset); err != nil {
		body.Close()
		return nil, 0, fmt.Errorf("media: open %s: skipping to %d: %w", key, offset, err)
	}
	return body, info.Size, nil
}

// openAtEnd answers an Open whose range the server refused (416): that is
// an empty read if offset is exactly the size, else ErrRange.
func (s *S3) openAtEnd(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	size, err := s.Stat(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	if offset != size {
		return nil, 0, fmt.Errorf("%w: offset %d, size %d", ErrRange, offset, size)
	}
	return http.NoBody, size, nil
}

// contentRangeTotal returns the complete length from a Content-Range
// header such as "bytes 5-9/10".
func contentRangeTotal(h string) (int64, bool) {
	_, total, ok := strings.Cut(h, "/")
	if !ok || !strings.HasPrefix(h, "bytes ") {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil && n >= 0
}

// Stat implements Store with a HEAD request.
func (s *S3) Stat(ctx context.Context, key string) (int64, error) {
	if err := ValidKey(key); err != nil {
		return 0, err
	}
	info, err := s.core.Client.StatObject(ctx, s.bucket, s.name(key), minio.StatObjectOptions{})
	if err != nil {
		return 0, s3Err("stat", key, err)
	}
	return info.Size, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	err := s.core.Client.RemoveObject(ctx, s.bucket, s.name(key), minio.RemoveObjectOptions{})
	if err != nil {
		return s3Err("delete", key, err)
	}
	return nil
}
