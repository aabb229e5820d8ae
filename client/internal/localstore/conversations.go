package localstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Conversation is a row of the conversations table.
type Conversation struct {
	ID           int64
	Type         int    // jmsg.ConversationType
	Target       string // single: the other username
	Title        string
	ServerConvID int64 // 0 until the server names it
	SyncedSeq    int64 // every message with seq <= SyncedSeq is stored
	Unread       int
	LatestTime   int64 // ms of the newest message, 0 if none
	CTime        int64
}

const convCols = `id, type, target, title, server_conv_id, synced_seq, unread, latest_time, ctime`

func scanConv(sc interface{ Scan(...any) error }) (Conversation, error) {
	var c Conversation
	err := sc.Scan(&c.ID, &c.Type, &c.Target, &c.Title, &c.ServerConvID, &c.SyncedSeq, &c.Unread, &c.LatestTime, &c.CTime)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// EnsureConversation returns the conversation (typ, target), creating it
// with title if it does not exist.
func (d *DB) EnsureConversation(ctx context.Context, typ int, target, title string) (Conversation, error) {
	var c Conversation
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = ensureConv(ctx, tx, typ, target, title)
		return err
	})
	return c, err
}

func ensureConv(ctx context.Context, tx *sql.Tx, typ int, target, title string) (Conversation, error) {
	_, err := tx.ExecContext(ctx, `INSERT INTO conversations (type, target, title, ctime) VALUES (?, ?, ?, ?)
		ON CONFLICT (type, target) DO NOTHING`, typ, target, title, time.Now().UnixMilli())
	if err != nil {
		return Conversation{}, fmt.Errorf("creating conversation: %w", err)
	}
	return scanConv(tx.QueryRowContext(ctx, `SELECT `+convCols+` FROM conversations WHERE type = ? AND target = ?`, typ, target))
}

// ConversationByTarget returns the conversation (typ, target); ErrNotFound
// if there is none.
func (d *DB) ConversationByTarget(ctx context.Context, typ int, target string) (Conversation, error) {
	return scanConv(d.db.QueryRowContext(ctx, `SELECT `+convCols+` FROM conversations WHERE type = ? AND target = ?`, typ, target))
}

// ConversationByID returns a conversation by local id.
func (d *DB) ConversationByID(ctx context.Context, id int64) (Conversation, error) {
	return scanConv(d.db.QueryRowContext(ctx, `SELECT `+convCols+` FROM conversations WHERE id = ?`, id))
}

// Conversations returns every conversation, newest message first;
// conversations without messages come last, newest created first.
func (d *DB) Conversations(ctx context.Context) ([]Conversation, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+convCols+` FROM conversations ORDER BY latest_time DESC, ctime DESC, id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		c, err := scanConv(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ClearUnread sets a conversation's unread count to 0.
func (d *DB) ClearUnread(ctx context.Context, id int64) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE conversations SET unread = 0 WHERE id = ?`, id)
		return err
	})
}

// TotalUnread returns the sum of every conversation's unread count.
func (d *DB) TotalUnread(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT coalesce(sum(unread), 0) FROM conversations`).Scan(&n)
	return n, err
}

// DeleteConversation removes a conversation and its messages.
func (d *DB) DeleteConversation(ctx context.Context, id int64) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE conv_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE id = ?`, id)
		return err
	})
}
