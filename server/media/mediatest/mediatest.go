// Package mediatest is the conformance suite every media.Store must pass.
// An implementation's test calls Run with a function that returns a fresh,
// empty store.
package mediatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/jmsg-im/jmsg/server/media"
)

// Run runs the suite. newStore returns a new empty store for each subtest
// and arranges its own cleanup.
func Run(t *testing.T, newStore func(t *testing.T) media.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s media.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Large", testLarge},
		{"OpenOffset", testOpenOffset},
		{"PutExisting", testPutExisting},
		{"PutShort", testPutShort},
		{"PutReaderError", testPutReaderError},
		{"PutCanceled", testPutCanceled},
		{"PutReadsOnlySize", testPutReadsOnlySize},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"GoodKeys", testGoodKeys},
		{"BadKeys", testBadKeys},
		{"ConcurrentPuts", testConcurrentPuts},
		{"ConcurrentSameKey", testConcurrentSameKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// randBytes returns n bytes of a deterministic stream picked by seed.
func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1}).Read(b)
	return b
}

func mustPut(t testing.TB, s media.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q, %d bytes) = %v", key, len(data), err)
	}
}

// read opens key at offset and returns the bytes and the reported size.
func read(t testing.TB, s media.Store, key string, offset int64) ([]byte, int64) {
	t.Helper()
	rc, size, err := s.Open(t.Context(), key, offset)
	if err != nil {
		t.Fatalf("Open(%q, %d) = %v", key, offset, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Open(%q, %d): reading: %v", key, offset, err)
	}
	return b, size
}

// checkContent fails unless key holds exactly want.
func checkContent(t testing.TB, s media.Store, key string, want []byte) {
	t.Helper()
	if size, err := s.Stat(t.Context(), key); err != nil || size != int64(len(want)) {
		t.Errorf("Stat(%q) = %d, %v, want %d, nil", key, size, err, len(want))
	}
	got, size := read(t, s, key, 0)
	if size != int64(len(want)) || !bytes.Equal(got, want) {
		t.Errorf("Open(%q, 0) = %d bytes (sha %x), size %d; want %d bytes (sha %x)",
			key, len(got), sha256.Sum256(got), size, len(want), sha256.Sum256(want))
	}
}

func checkNotFound(t testing.TB, s media.Store, key string) {
	t.Helper()
	if size, err := s.Stat(t.Context(), key); !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Stat(%q) = %d, %v, want ErrNotFound", key, size, err)
	}
	rc, size, err := s.Open(t.Context(), key, 0)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, media.ErrNotFound) {
		t.Errorf("Open(%q, 0) = %d, %v, want ErrNotFound", key, size, err)
	}
}

func testRoundTrip(t *testing.T, s media.Store) {
	for i, n := range []int{0, 1, 1000, 1<<20 + 7} {
		key := fmt.Sprintf("app1/round%d", i)
		data := randBytes(uint64(i), n)
		mustPut(t, s, key, data)
		checkContent(t, s, key, data)
	}
}

// testLarge streams 20 MB from a generator, never held whole by the test
// either, and compares hashes.
func testLarge(t *testing.T, s media.Store) {
	const size = 20 << 20
	const key = "app1/large"
	want := sha256.New()
	src := io.TeeReader(io.LimitReader(rand.NewChaCha8([32]byte{7}), size), want)
	if err := s.Put(t.Context(), key, src, size); err != nil {
		t.Fatalf("Put(%q, %d) = %v", key, size, err)
	}
	rc, n, err := s.Open(t.Context(), key, 0)
	if err != nil {
		t.Fatalf("Open(%q, 0) = %v", key, err)
	}
	defer rc.Close()
	got := sha256.New()
	copied, err := io.Copy(got, rc)
	if err != nil || n != size || copied != size {
		t.Fatalf("Open(%q, 0): size %d, read %d, %v; want %d", key, n, copied, err, size)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Errorf("Open(%q, 0): sha256 %x, want %x", key, got.Sum(nil), want.Sum(nil))
	}
}

func testOpenOffset(t *testing.T, s media.Store) {
	const key = "app1/offsets"
	data := randBytes(3, 1000)
	mustPut(t, s, key, data)
	for _, off := range []int64{0, 1, 500, 999, 1000} {
		got, size := read(t, s, key, off)
		if size != 1000 || !bytes.Equal(got, data[off:]) {
			t.Errorf("Open(%q, %d) = %d bytes, size %d; want %d bytes, size 1000", key, off, len(got), size, 1000-off)
		}
	}
	for _, off := range []int64{1001, 1 << 40, -1} {
		rc, size, err := s.Open(t.Context(), key, off)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, media.ErrRange) {
			t.Errorf("Open(%q, %d) = %d, %v, want ErrRange", key, off, size, err)
		}
	}

	mustPut(t, s, "app1/empty", nil)
	if got, size := read(t, s, "app1/empty", 0); len(got) != 0 || size != 0 {
		t.Errorf("Open(empty, 0) = %d bytes, size %d, want 0, 0", len(got), size)
	}
	if rc, size, err := s.Open(t.Context(), "app1/empty", 1); !errors.Is(err, media.ErrRange) {
		if err == nil {
			rc.Close()
		}
		t.Errorf("Open(empty, 1) = %d, %v, want ErrRange", size, err)
	}
}

func testPutExisting(t *testing.T, s media.Store) {
	const key = "app1/once"
	orig := randBytes(4, 5000)
	mustPut(t, s, key, orig)
	for _, n := range []int{5000, 10, 0} {
		other := randBytes(5, n)
		if err := s.Put(t.Context(), key, bytes.NewReader(other), int64(n)); !errors.Is(err, media.ErrExists) {
			t.Errorf("second Put(%q, %d bytes) = %v, want ErrExists", key, n, err)
		}
	}
	checkContent(t, s, key, orig)
}

func testPutShort(t *testing.T, s media.Store) {
	for i, n := range []int{0, 10, 99} {
		key := fmt.Sprintf("app1/short%d", i)
		if err := s.Put(t.Context(), key, bytes.NewReader(randBytes(6, n)), 100); err == nil {
			t.Errorf("Put(%q) of %d bytes claiming 100 = nil, want error", key, n)
		}
		checkNotFound(t, s, key)
		// Nothing is left behind that would block a retry.
		data := randBytes(7, 100)
		mustPut(t, s, key, data)
		checkContent(t, s, key, data)
	}
}

// failingReader yields n bytes, then err.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

func testPutReaderError(t *testing.T, s media.Store) {
	const key = "app1/broken"
	errBroken := errors.New("client went away")
	if err := s.Put(t.Context(), key, &failingReader{n: 64 << 10, err: errBroken}, 1<<20); err == nil {
		t.Errorf("Put(%q) with a failing reader = nil, want error", key)
	}
	checkNotFound(t, s, key)
}

// cancelingReader cancels its context after n bytes and keeps yielding.
type cancelingReader struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	k := min(len(p), 4096)
	clear(p[:k])
	c.n -= k
	return k, nil
}

func testPutCanceled(t *testing.T, s media.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Put(ctx, "app1/canceled", bytes.NewReader(nil), 0); err == nil {
		t.Errorf("Put(canceled ctx, 0 bytes) = nil, want error")
	}
	checkNotFound(t, s, "app1/canceled")

	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	if err := s.Put(ctx, "app1/midway", &cancelingReader{n: 64 << 10, cancel: cancel}, 1<<20); err == nil {
		t.Errorf("Put(ctx canceled midway) = nil, want error")
	}
	checkNotFound(t, s, "app1/midway")
}

func testPutReadsOnlySize(t *testing.T, s media.Store) {
	const key = "app1/prefix"
	data := randBytes(8, 300)
	r := bytes.NewReader(data)
	if err := s.Put(t.Context(), key, r, 200); err != nil {
		t.Fatalf("Put(%q, 300-byte reader, 200) = %v", key, err)
	}
	checkContent(t, s, key, data[:200])
	if r.Len() != 100 {
		t.Errorf("Put(%q, 300-byte reader, 200) left %d bytes unread, want 100", key, r.Len())
	}
}

func testMissing(t *testing.T, s media.Store) {
	checkNotFound(t, s, "app1/never")
	checkNotFound(t, s, "nodir/never")
	mustPut(t, s, "app1/x", []byte("x"))
	checkNotFound(t, s, "app1") // a "directory" is not an object
	checkNotFound(t, s, "app1/x/y")
}

func testDelete(t *testing.T, s media.Store) {
	const key = "app1/gone"
	mustPut(t, s, key, []byte("soon gone"))
	mustPut(t, s, "app1/kept", []byte("kept"))
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete(%q) = %v", key, err)
	}
	checkNotFound(t, s, key)
	checkContent(t, s, "app1/kept", []byte("kept"))
	for _, k := range []string{key, "app1/never", "nodir/never"} {
		if err := s.Delete(t.Context(), k); err != nil {
			t.Errorf("Delete(%q) of a missing key = %v, want nil", k, err)
		}
	}
	// A deleted key can be stored again.
	mustPut(t, s, key, []byte("back"))
	checkContent(t, s, key, []byte("back"))
}

func testConcurrentPuts(t *testing.T, s media.Store) {
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			data := randBytes(uint64(100+i), 64<<10+i)
			errs[i] = s.Put(t.Context(), fmt.Sprintf("app%d/c%d", i%3, i), bytes.NewReader(data), int64(len(data)))
		})
	}
	wg.Wait()
	for i := range n {
		key := fmt.Sprintf("app%d/c%d", i%3, i)
		if errs[i] != nil {
			t.Errorf("concurrent Put(%q) = %v", key, errs[i])
			continue
		}
		checkContent(t, s, key, randBytes(uint64(100+i), 64<<10+i))
	}
}

// testConcurrentSameKey races Puts of one key with different contents:
// exactly one wins, the others get ErrExists, and the object is the
// winner's, whole.
func testConcurrentSameKey(t *testing.T, s media.Store) {
	const n = 8
	const key = "app1/contended"
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			data := randBytes(uint64(200+i), 256<<10)
			errs[i] = s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)))
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("Puts %d and %d of %q both succeeded", winner, i, key)
		case err == nil:
			winner = i
		case !errors.Is(err, media.ErrExists):
			t.Errorf("losing Put %d of %q = %v, want ErrExists", i, key, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no Put of %q succeeded: %v", key, errs)
	}
	checkContent(t, s, key, randBytes(uint64(200+winner), 256<<10))
}
