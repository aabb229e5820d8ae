// Package sqlite is jmsgd's embedded store: one SQLite database file in WAL
// mode with synchronous=FULL, so that a committed transaction survives a
// crash or power loss. Writes go through a single connection (SQLite has one
// writer); reads use a pool.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jmsg-im/jmsg/server/store"
)

// Store implements store.Store on SQLite. It is safe for concurrent use.
type Store struct {
	w      *sql.DB // single connection: every write transaction
	r      *sql.DB // read pool
	wstmts *stmtCache
	rstmts *stmtCache
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and applies the
// schema migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := func(mode string) string {
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(ON)")
		q.Set("_txlock", "immediate")
		if mode != "" {
			q.Set("mode", mode)
		}
		return "file:" + escapePath(path) + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	s := &Store{w: w}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrating %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("ro"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	s.r = r
	s.wstmts, s.rstmts = newStmtCache(w), newStmtCache(r)
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.wstmts.close()
	s.rstmts.close()
	return errors.Join(s.r.Close(), s.w.Close())
}

// isConstraint reports whether err is a SQLite UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// inTx runs fn in a write transaction and commits it.
func (s *Store) inTx(ctx context.Context, fn func(tx ptx) error) error {
	sqltx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	var missed []string
	tx := ptx{Tx: sqltx, c: s.wstmts, missed: &missed}
	err = fn(tx)
	if err != nil {
		tx.Rollback()
	} else if err = tx.Commit(); err != nil {
		err = fmt.Errorf("committing: %w", err)
	}
	for _, q := range missed { // the connection is free again
		s.wstmts.get(ctx, q)
	}
	return err
}

// escapePath makes a file path safe inside a file: URI: characters that
// would start the query or fragment, and '%' itself, are percent-encoded.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}
