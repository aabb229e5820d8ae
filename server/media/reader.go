package media

import (
	"context"
	"fmt"
	"io"
)

// exactReader yields exactly n bytes of r, then io.EOF. If r ends early it
// fails with io.ErrUnexpectedEOF instead of a short EOF, so a truncated
// upload can never be stored as a complete object; if ctx is done it fails
// with ctx's error, so a canceled Put stops between reads.
type exactReader struct {
	ctx context.Context
	r   io.Reader
	n   int64 // bytes still to read
}

func newExactReader(ctx context.Context, r io.Reader, n int64) *exactReader {
	return &exactReader{ctx: ctx, r: r, n: n}
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	if err := e.ctx.Err(); err != nil {
		return 0, err
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= int64(n)
	switch {
	case err == io.EOF && e.n > 0:
		return n, fmt.Errorf("reading object: %w (%d bytes missing)", io.ErrUnexpectedEOF, e.n)
	case err == io.EOF:
		return n, nil // the next Read returns io.EOF
	}
	return n, err
}
