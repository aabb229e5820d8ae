package media_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/jmsg-im/jmsg/server/media"
	"github.com/jmsg-im/jmsg/server/media/mediatest"
)

func newFS(t *testing.T, dir string) *media.FS {
	t.Helper()
	s, err := media.NewFS(dir)
	if err != nil {
		t.Fatalf("NewFS(%q) = %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return s
}

func TestFS(t *testing.T) {
	mediatest.Run(t, func(t *testing.T) media.Store {
		dir := t.TempDir()
		s := newFS(t, dir)
		t.Cleanup(func() { checkNoStaged(t, dir) })
		return s
	})
}

// checkNoStaged fails if a Put left a staging file behind.
func checkNoStaged(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "+tmp"))
	if err != nil || len(ents) != 0 {
		t.Errorf("staging directory: %d entries, %v; want none", len(ents), err)
	}
}

// listFiles returns every path under dir, relative to it.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		paths = append(paths, rel)
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	return paths
}

func TestFSBadKeysTouchNothing(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "a", "b", "store")
	s := newFS(t, dir)
	before := listFiles(t, parent)
	for _, key := range append(mediatest.BadKeys, "../../x", "../../../etc", "a/../../../x") {
		s.Put(t.Context(), key, bytes.NewReader([]byte("x")), 1)
		s.Delete(t.Context(), key)
	}
	after := listFiles(t, parent)
	if !slices.Equal(after, before) {
		t.Errorf("files after Put of bad keys: %q, want %q", after, before)
	}
}

// A symlink planted in the store cannot lead Put outside it.
func TestFSSymlinkEscape(t *testing.T) {
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "store")
	s := newFS(t, dir)
	if err := os.Symlink(outside, filepath.Join(dir, "app1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "app1/x", bytes.NewReader([]byte("x")), 1); err == nil {
		t.Errorf("Put(app1/x) through a symlink out of the store = nil, want error")
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file outside the store: Stat = %v, want not exist", err)
	}
}

func TestFSLayout(t *testing.T) {
	dir := t.TempDir()
	s := newFS(t, dir)
	for _, key := range []string{"app1/abc", "app1/abc.thumb", "app2/x/y"} {
		if err := s.Put(t.Context(), key, bytes.NewReader([]byte(key)), int64(len(key))); err != nil {
			t.Fatalf("Put(%q) = %v", key, err)
		}
	}
	for name, want := range map[string]string{"app1/abc": "app1/abc", "app1/abc.thumb": "app1/abc.thumb", "app2/x/y": "app2/x/y"} {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != want {
			t.Errorf("ReadFile(%s) = %q, %v, want %q", name, got, err, want)
		}
	}
}
