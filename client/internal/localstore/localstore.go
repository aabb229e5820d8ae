// Package localstore is the Go SDK's local database: one SQLite file per
// (app key, user) holding conversations, messages and sync state, with
// numbered schema migrations applied at open.
package localstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("localstore: not found")

// MigrateError reports a database that cannot be brought to this SDK's
// schema: written by a newer schema, corrupt, or unwritable.
type MigrateError struct{ Err error }

func (e *MigrateError) Error() string { return "migrating local database: " + e.Err.Error() }
func (e *MigrateError) Unwrap() error { return e.Err }

// DB is an open local database. It is safe for concurrent use; writes are
// serialised.
type DB struct {
	db  *sql.DB
	dir string     // the directory of the database file
	mu  sync.Mutex // serialises write transactions
}

// Open opens or creates the database at path and migrates it. Any failure
// to open or migrate is a *MigrateError.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?"+q.Encode())
	if err != nil {
		return nil, &MigrateError{err}
	}
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, &MigrateError{err}
	}
	return &DB{db: db, dir: filepath.Dir(path)}, nil
}

// Dir returns the directory holding the database file: the base of the
// relative media paths stored in messages.
func (d *DB) Dir() string { return d.dir }

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// tx runs fn in a write transaction.
func (d *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Meta returns the integer value of key, 0 if unset.
func (d *DB) Meta(ctx context.Context, key string) (int64, error) {
	var v int64
	err := d.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// SetMeta sets the integer value of key.
func (d *DB) SetMeta(ctx context.Context, key string, v int64) error {
	return d.tx(ctx, func(tx *sql.Tx) error { return setMeta(ctx, tx, key, v) })
}

// SetMetas sets several integer values in one transaction.
func (d *DB) SetMetas(ctx context.Context, kv map[string]int64) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		for k, v := range kv {
			if err := setMeta(ctx, tx, k, v); err != nil {
				return err
			}
		}
		return nil
	})
}

func setMeta(ctx context.Context, tx *sql.Tx, key string, v int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	if err != nil {
		return fmt.Errorf("setting %s: %w", key, err)
	}
	return nil
}

// escapePath makes a file path safe inside a file: URI: characters that
// would start the query or fragment, and '%' itself, are percent-encoded.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}
