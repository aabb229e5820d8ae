package media

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
)

// Object "app1/abc" is the file "app1/abc" under the directory. Staged
// uploads live in tmpDir, a name no key can have ('+' is not a key byte).
const (
	tmpDir   = "+tmp"
	filePerm = 0o640
	dirPerm  = 0o750
)

// FS is a Store in a local directory. Put stages the bytes in a temporary
// file, fsyncs it, links it into place without replacing an existing file
// and fsyncs the directory, so a stored object survives a crash and a
// reader never sees a partial one. All access goes through an os.Root, so
// even a key that slipped past ValidKey could not leave the directory.
//
// Empty directories are not removed by Delete (a concurrent Put may be
// about to use them). A crash during Put can leave a file in the "+tmp"
// subdirectory; such files can be removed while no process uses the store.
// Put needs a file system with hard links (any local POSIX one).
type FS struct {
	root *os.Root
}

var _ Store = (*FS)(nil)

// NewFS returns a Store keeping objects under dir, creating dir if needed.
// Call Close when done.
func NewFS(dir string) (*FS, error) {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("media: creating %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("media: opening %s: %w", dir, err)
	}
	if err := root.Mkdir(tmpDir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
		root.Close()
		return nil, fmt.Errorf("media: creating %s/%s: %w", dir, tmpDir, err)
	}
	return &FS{root: root}, nil
}

// Close releases the directory handle. The FS must not be used afterwards.
func (s *FS) Close() error { return s.root.Close() }

// Put implements Store. A concurrent Put of the same key either wins or
// gets ErrExists: the final step is link(2), which never replaces a file.
func (s *FS) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("media: put %s: negative size %d", key, size)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	if fi, err := s.root.Stat(key); err == nil && fi.IsDir() {
		return fmt.Errorf("media: put %s: key is a directory of other objects", key)
	} else if err == nil {
		return ErrExists
	} else if !notExist(err) {
		return fmt.Errorf("media: put %s: %w", key, err)
	}

	tmp := tmpDir + "/" + rand.Text()
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return fmt.Errorf("media: put %s: staging: %w", key, err)
	}
	// The staged name is removed in every case: after a successful link
	// the object lives on under key.
	defer s.root.Remove(tmp)
	if err := writeSync(f, newExactReader(ctx, r, size)); err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}

	synced, err := s.mkdirs(path.Dir(key))
	if err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	if err := s.root.Link(tmp, key); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrExists
		}
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	for _, dir := range append(synced, path.Dir(key)) {
		if err := s.syncDir(dir); err != nil {
			return fmt.Errorf("media: put %s: %w", key, err)
		}
	}
	return nil
}

// notExist reports whether err means there is no file: absent, or a
// parent of the name is a file ("app1/x/y" when "app1/x" is an object).
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// writeSync copies r to f, flushes f to stable storage and closes it.
func writeSync(f *os.File, r io.Reader) error {
	_, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// mkdirs creates dir and its missing parents under the root. It returns the
// parents of the directories it created: those must be fsynced for the
// new entries to be durable.
func (s *FS) mkdirs(dir string) ([]string, error) {
	if dir == "." {
		return nil, nil
	}
	parents, err := s.mkdirs(path.Dir(dir))
	if err != nil {
		return nil, err
	}
	switch err := s.root.Mkdir(dir, dirPerm); {
	case err == nil:
		return append(parents, path.Dir(dir)), nil
	case errors.Is(err, fs.ErrExist):
		return parents, nil
	default:
		return nil, err
	}
}

func (s *FS) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open implements Store. The reader is an *os.File positioned at offset.
func (s *FS) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, int64, error) {
	if err := ValidKey(key); err != nil {
		return nil, 0, err
	}
	f, err := s.root.Open(key)
	if notExist(err) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("media: open %s: %w", key, err)
	}
	size, err := s.openedSize(f, offset)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("media: open %s: %w", key, err)
	}
	return f, size, nil
}

// openedSize returns the size of f and seeks it to offset.
func (s *FS) openedSize(f *os.File, offset int64) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, ErrNotFound
	}
	if offset < 0 || offset > fi.Size() {
		return 0, fmt.Errorf("%w: offset %d, size %d", ErrRange, offset, fi.Size())
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Stat implements Store.
func (s *FS) Stat(ctx context.Context, key string) (int64, error) {
	if err := ValidKey(key); err != nil {
		return 0, err
	}
	fi, err := s.root.Stat(key)
	if notExist(err) || err == nil && !fi.Mode().IsRegular() {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("media: stat %s: %w", key, err)
	}
	return fi.Size(), nil
}

// Delete implements Store. The removal is fsynced.
func (s *FS) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	// A directory (the "app1" of "app1/x") is not an object: leave it.
	fi, err := s.root.Lstat(key)
	if notExist(err) || err == nil && fi.IsDir() {
		return nil
	}
	if err == nil {
		err = s.root.Remove(key)
	}
	if err == nil {
		err = s.syncDir(path.Dir(key))
	}
	if err != nil {
		return fmt.Errorf("media: delete %s: %w", key, err)
	}
	return nil
}
