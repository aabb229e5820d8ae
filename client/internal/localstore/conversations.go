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
	ReadSeq      int64 // read up to here, on this device or another
	ReadPending  bool  // ReadSeq not yet sent to the server
}

const convCols = `id, type, target, title, server_conv_id, synced_seq, unread, latest_time, ctime, read_seq, read_pending`

func scanConv(sc interface{ Scan(...any) error }) (Conversation, error) {
	var c Conversation
	err := sc.Scan(&c.ID, &c.Type, &c.Target, &c.Title, &c.ServerConvID, &c.SyncedSeq, &c.Unread, &c.LatestTime, &c.CTime,
		&c.ReadSeq, &c.ReadPending)
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

// ConversationByServerID returns the conversation the server calls id.
func (d *DB) ConversationByServerID(ctx context.Context, id int64) (Conversation, error) {
	return scanConv(d.db.QueryRowContext(ctx, `SELECT `+convCols+` FROM conversations WHERE server_conv_id = ?`, id))
}

// ConversationByID returns a conversation by local id.
func (d *DB) ConversationByID(ctx context.Context, id int64) (Conversation, error) {
	return scanConv(d.db.QueryRowContext(ctx, `SELECT `+convCols+` FROM conversations WHERE id = ?`, id))
}

// Conversations returns every conversation, newest message first;
// conversations without messages come last, newest created first.
func (d *DB) Conversations(ctx context.Context) ([]Conversation, error) {
	return d.queryConvs(ctx, `SELECT `+convCols+` FROM conversations ORDER BY latest_time DESC, ctime DESC, id DESC`)
}

// queryConvs runs a query of convCols rows.
func (d *DB) queryConvs(ctx context.Context, q string, args ...any) ([]Conversation, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
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

// MarkRead moves a conversation's read position to its newest stored
// message (pending until SetReadSent) and returns the position.
func (d *DB) MarkRead(ctx context.Context, id int64) (int64, error) {
	var pos int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT max(read_seq, coalesce((SELECT max(seq) FROM messages WHERE conv_id = ?), 0))
			FROM conversations WHERE id = ?`, id, id).Scan(&pos); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET read_seq = ?, read_pending = 1 WHERE id = ?`, pos, id); err != nil {
			return err
		}
		return recountUnread(ctx, tx, id)
	})
	return pos, err
}

// SetReadSent records that the server has the read position seq.
func (d *DB) SetReadSent(ctx context.Context, id, seq int64) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE conversations SET read_pending = 0 WHERE id = ? AND read_seq <= ?`, id, seq)
		return err
	})
}

// RaiseRead applies a read position learned from the server (another
// device): it only moves forward. It reports whether it moved.
func (d *DB) RaiseRead(ctx context.Context, id, seq int64) (bool, error) {
	var moved bool
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE conversations SET read_seq = ? WHERE id = ? AND read_seq < ?`, seq, id, seq)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if moved = n > 0; moved {
			return recountUnread(ctx, tx, id)
		}
		return nil
	})
	return moved, err
}

// PendingReads returns the conversations whose read position the server
// does not have yet.
func (d *DB) PendingReads(ctx context.Context) ([]Conversation, error) {
	return d.queryConvs(ctx, `SELECT `+convCols+` FROM conversations WHERE read_pending = 1 AND server_conv_id != 0`)
}

// recountUnread sets a conversation's unread count: the messages others
// sent after its read position, group events excepted.
func recountUnread(ctx context.Context, tx *sql.Tx, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE conversations SET unread = (SELECT count(*) FROM messages
		WHERE conv_id = ? AND received = 1 AND content_type != ? AND seq > conversations.read_seq) WHERE id = ?`, id, contentEvent, id)
	return err
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
