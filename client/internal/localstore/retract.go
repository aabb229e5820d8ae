package localstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// contentPrompt is jmsg.ContentPrompt: the content a retracted message
// has.
const contentPrompt = 8

// Statuses a retraction moves: a received media message whose automatic
// download failed (jmsg.StatusReceiveDownloadFailed) has nothing left to
// download (jmsg.StatusReceiveSucceed).
const (
	statusDownloadFailed = 7
	statusReceived       = 8
)

// Retracted is a held message whose content a retraction replaced.
type Retracted struct {
	Message Message // the row afterwards
	// Orphans are the media files (relative to Dir) the message had and
	// no message refers to any more: the caller deletes them.
	Orphans []string
}

// MessageByServerID returns a message by server id; ErrNotFound if it is
// not held.
func (d *DB) MessageByServerID(ctx context.Context, serverID int64) (Message, error) {
	return scanMsg(d.db.QueryRowContext(ctx, `SELECT `+msgCols+` FROM messages WHERE server_id = ?`, serverID))
}

// Retract replaces the content of message id with content, a retraction
// prompt, and forgets its media files. It reports false, changing nothing,
// when the message is a prompt already (or does not exist).
func (d *DB) Retract(ctx context.Context, id int64, content string) (Retracted, bool, error) {
	var r Retracted
	var ok bool
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var err error
		r, ok, err = retractTx(ctx, tx, id, content)
		return err
	})
	return r, ok, err
}

// retractTx is Retract within tx.
func retractTx(ctx context.Context, tx *sql.Tx, id int64, content string) (Retracted, bool, error) {
	old, err := scanMsg(tx.QueryRowContext(ctx, `SELECT `+msgCols+` FROM messages WHERE id = ?`, id))
	if errors.Is(err, ErrNotFound) {
		return Retracted{}, false, nil
	}
	if err != nil {
		return Retracted{}, false, err
	}
	if old.ContentType == contentPrompt {
		return Retracted{}, false, nil
	}
	m, err := scanMsg(tx.QueryRowContext(ctx, `UPDATE messages SET content_type = ?, content = ?, media_path = '', thumb_path = '',
		status = CASE WHEN status = ? THEN ? ELSE status END, error_code = CASE WHEN status = ? THEN 0 ELSE error_code END
		WHERE id = ? RETURNING `+msgCols, contentPrompt, content, statusDownloadFailed, statusReceived, statusDownloadFailed, id))
	if err != nil {
		return Retracted{}, false, fmt.Errorf("retracting message: %w", err)
	}
	r := Retracted{Message: m}
	for _, p := range []string{old.MediaPath, old.ThumbPath} {
		if p == "" {
			continue
		}
		// A forwarded copy, or another message with the same media,
		// may share the file.
		used, err := referenced(ctx, tx, p)
		if err != nil {
			return Retracted{}, false, err
		}
		if !used {
			r.Orphans = append(r.Orphans, p)
		}
	}
	return r, true, nil
}

// Referenced reports whether a message records path (relative to Dir) as
// its media or thumbnail.
func (d *DB) Referenced(ctx context.Context, path string) (bool, error) {
	return referenced(ctx, d.db, path)
}

func referenced(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, path string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE media_path = ? OR thumb_path = ?`, path, path).Scan(&n)
	return n > 0, err
}

// NewestHeld returns the newest server time of the messages held with a
// server id, and the highest local id of those messages; 0, 0 when there
// are none.
func (d *DB) NewestHeld(ctx context.Context) (serverTime, maxID int64, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT coalesce(max(server_time), 0), coalesce(max(id), 0) FROM messages
		WHERE server_id IS NOT NULL`).Scan(&serverTime, &maxID)
	return serverTime, maxID, err
}

// Retractable is a held message that may have been retracted.
type Retractable struct {
	ID           int64
	ConvID       int64
	ServerConvID int64
	ServerID     int64
	Seq          int64
}

// Retractable returns the messages with local id up to maxID, a server
// id, a server time after `after` and content that is not a prompt,
// ordered by conversation and sequence.
func (d *DB) Retractable(ctx context.Context, after, maxID int64) ([]Retractable, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT m.id, m.conv_id, c.server_conv_id, m.server_id, m.seq
		FROM messages m JOIN conversations c ON c.id = m.conv_id
		WHERE m.server_id IS NOT NULL AND m.seq IS NOT NULL AND m.server_time > ? AND m.id <= ? AND m.content_type != ?
		ORDER BY m.conv_id, m.seq`, after, maxID, contentPrompt)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Retractable
	for rows.Next() {
		var r Retractable
		if err := rows.Scan(&r.ID, &r.ConvID, &r.ServerConvID, &r.ServerID, &r.Seq); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
