package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache holds prepared statements by query text, so that the hot path
// does not parse SQL again for every message (parsing was a third of the
// write path's CPU before).
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex // guards m
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// lookup returns the prepared statement of q if there is one.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[q]
}

// get returns the prepared statement of q, preparing it on the pool, or
// nil if it cannot be prepared (the caller then runs q unprepared, which
// reports the error). Never call it while holding the write connection:
// preparing needs a free connection.
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	if st := c.lookup(q); st != nil {
		return st
	}
	// Prepare without holding mu: preparing waits for a connection, which a
	// transaction calling lookup may hold.
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[q]; ok {
		st.Close()
		return old
	}
	c.m[q] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}

// ptx is a write transaction that runs statements prepared once. The
// write pool has one connection, which the transaction holds, so a query
// not prepared yet runs unprepared and is noted; inTx prepares the noted
// ones after the transaction, when the connection is free.
type ptx struct {
	*sql.Tx
	c      *stmtCache
	missed *[]string
}

func (t ptx) stmt(ctx context.Context, q string) *sql.Stmt {
	st := t.c.lookup(q)
	if st == nil {
		*t.missed = append(*t.missed, q)
		return nil
	}
	return t.Tx.StmtContext(ctx, st)
}

// QueryRowContext runs q within the transaction, prepared if it can be.
func (t ptx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

// ExecContext runs q within the transaction, prepared if it can be.
func (t ptx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, q, args...)
}

// QueryContext runs q within the transaction, prepared if it can be.
func (t ptx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}

// readRow runs a read query prepared once on the read pool.
func (s *Store) readRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := s.rstmts.get(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, q, args...)
}

// readQuery runs a read query prepared once on the read pool.
func (s *Store) readQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := s.rstmts.get(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, q, args...)
}

// rtx is a read-only transaction whose statements were prepared on the
// read pool before it began: preparing inside it could wait for a pool
// connection that other transactions hold.
type rtx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

// beginRead prepares qs on the read pool and starts a read-only
// transaction that runs them.
func (s *Store) beginRead(ctx context.Context, qs ...string) (rtx, error) {
	stmts := make(map[string]*sql.Stmt, len(qs))
	for _, q := range qs {
		if st := s.rstmts.get(ctx, q); st != nil {
			stmts[q] = st
		}
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	return rtx{Tx: tx, stmts: stmts}, err
}

// QueryRowContext runs q within the transaction, prepared if it was.
func (t rtx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmts[q]; st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, q, args...)
}

// QueryContext runs q within the transaction, prepared if it was.
func (t rtx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.stmts[q]; st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, q, args...)
}
