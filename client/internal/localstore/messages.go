package localstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// contentEvent is jmsg.ContentEventNotification: group events do not count
// as unread.
const contentEvent = 5

// Message is a row of the messages table.
type Message struct {
	ID          int64
	ConvID      int64
	ServerID    int64 // 0 until sent
	Seq         int64 // 0 until sent
	CID         string
	Received    bool
	Status      int // jmsg.MessageStatus
	ContentType int // jmsg.ContentType
	Content     string
	From        string
	ServerTime  int64
	LocalTime   int64
	ErrorCode   int
	MediaPath   string // the local copy of the media, relative to Dir; '' if none
	ThumbPath   string // the local copy of the thumbnail, relative to Dir; '' if none
}

const msgCols = `id, conv_id, coalesce(server_id, 0), coalesce(seq, 0), cid, received, status, content_type, content,
	from_user, server_time, local_time, error_code, media_path, thumb_path`

func scanMsg(sc interface{ Scan(...any) error }) (Message, error) {
	var m Message
	err := sc.Scan(&m.ID, &m.ConvID, &m.ServerID, &m.Seq, &m.CID, &m.Received, &m.Status, &m.ContentType,
		&m.Content, &m.From, &m.ServerTime, &m.LocalTime, &m.ErrorCode, &m.MediaPath, &m.ThumbPath)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}

func nullable(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// InsertOutgoing stores a message created on this device and returns its
// local id.
func (d *DB) InsertOutgoing(ctx context.Context, m Message) (int64, error) {
	var id int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO messages (conv_id, cid, received, status, content_type, content,
			from_user, local_time, media_path, thumb_path) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			m.ConvID, m.CID, m.Status, m.ContentType, m.Content, m.From, m.LocalTime, m.MediaPath, m.ThumbPath).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("storing message: %w", err)
	}
	return id, nil
}

// SetStatus sets a message's status and error code.
func (d *DB) SetStatus(ctx context.Context, id int64, status, code int) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET status = ?, error_code = ? WHERE id = ?`, status, code, id)
		return err
	})
}

// MarkSent records the server's answer to a send: ids, sequence and time,
// and status.
func (d *DB) MarkSent(ctx context.Context, id, serverID, seq, serverTime, serverConvID int64, status int) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		var convID int64
		err := tx.QueryRowContext(ctx, `UPDATE messages SET server_id = ?, seq = ?, server_time = ?, status = ?, error_code = 0
			WHERE id = ? RETURNING conv_id`, serverID, seq, serverTime, status, id).Scan(&convID)
		if err != nil {
			return fmt.Errorf("marking sent: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET server_conv_id = ?, latest_time = max(latest_time, ?)
			WHERE id = ?`, serverConvID, serverTime, convID); err != nil {
			return err
		}
		return advanceSynced(ctx, tx, convID)
	})
}

// Incoming is a message from the server to store in conversation
// (ConvType, Target), which is created if needed.
type Incoming struct {
	ConvType     int
	Target       string
	ServerConvID int64
	Message      Message
}

// StoreIncoming stores messages that came from the server, each in its
// conversation, in one transaction. A message already stored (same server
// id, or same sender and client id) is skipped, except that a held
// message the server now sends as a retraction prompt takes that content
// (Retract): it was retracted while no connection received the
// retraction. Unread counts are recounted: messages of others after the
// read position, events excepted. It returns the messages newly stored,
// with their local ids, and the held messages retracted.
func (d *DB) StoreIncoming(ctx context.Context, in []Incoming) ([]Message, []Retracted, error) {
	var out []Message
	var retracted []Retracted
	err := d.tx(ctx, func(tx *sql.Tx) error {
		out, retracted = out[:0], retracted[:0]
		touched := map[int64]bool{}
		for _, x := range in {
			c, err := ensureConv(ctx, tx, x.ConvType, x.Target, x.Target)
			if err != nil {
				return err
			}
			if c.ServerConvID == 0 && x.ServerConvID != 0 {
				if _, err := tx.ExecContext(ctx, `UPDATE conversations SET server_conv_id = ? WHERE id = ?`, x.ServerConvID, c.ID); err != nil {
					return err
				}
			}
			m := x.Message
			m.ConvID = c.ID
			res, err := tx.ExecContext(ctx, `INSERT INTO messages (conv_id, server_id, seq, cid, received, status, content_type,
				content, from_user, server_time, local_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, m.ConvID, nullable(m.ServerID), nullable(m.Seq), m.CID, m.Received, m.Status,
				m.ContentType, m.Content, m.From, m.ServerTime, m.LocalTime)
			if err != nil {
				return fmt.Errorf("storing message: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				if m.ContentType != contentPrompt || m.ServerID == 0 {
					continue
				}
				var id int64
				err := tx.QueryRowContext(ctx, `SELECT id FROM messages WHERE server_id = ?`, m.ServerID).Scan(&id)
				if errors.Is(err, sql.ErrNoRows) {
					continue // held under its client id only: the outbox settles it
				} else if err != nil {
					return err
				}
				r, ok, err := retractTx(ctx, tx, id, m.Content)
				if err != nil {
					return err
				}
				if ok {
					retracted = append(retracted, r)
				}
				continue
			}
			m.ID, _ = res.LastInsertId()
			if _, err := tx.ExecContext(ctx, `UPDATE conversations SET latest_time = max(latest_time, ?) WHERE id = ?`,
				m.ServerTime, c.ID); err != nil {
				return err
			}
			touched[c.ID] = true
			out = append(out, m)
		}
		for id := range touched {
			if err := advanceSynced(ctx, tx, id); err != nil {
				return err
			}
			if err := recountUnread(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	return out, retracted, err
}

// RaiseSynced records that a conversation has nothing to fetch up to seq
// (messages the user may never read: sent before they joined), then moves
// synced_seq over what is stored after it.
func (d *DB) RaiseSynced(ctx context.Context, convID, seq int64) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE conversations SET synced_seq = max(synced_seq, ?) WHERE id = ?`, seq, convID); err != nil {
			return err
		}
		return advanceSynced(ctx, tx, convID)
	})
}

// advanceSynced moves a conversation's synced_seq over every contiguous
// stored sequence number after it.
func advanceSynced(ctx context.Context, tx *sql.Tx, convID int64) error {
	var synced int64
	if err := tx.QueryRowContext(ctx, `SELECT synced_seq FROM conversations WHERE id = ?`, convID).Scan(&synced); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq FROM messages WHERE conv_id = ? AND seq > ? ORDER BY seq`, convID, synced)
	if err != nil {
		return err
	}
	next := synced
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		if s != next+1 {
			break
		}
		next = s
	}
	rows.Close()
	if next == synced {
		return rows.Err()
	}
	_, err = tx.ExecContext(ctx, `UPDATE conversations SET synced_seq = ? WHERE id = ?`, next, convID)
	return err
}

// MessageByID returns a message by local id.
func (d *DB) MessageByID(ctx context.Context, id int64) (Message, error) {
	return scanMsg(d.db.QueryRowContext(ctx, `SELECT `+msgCols+` FROM messages WHERE id = ?`, id))
}

// Messages returns up to limit messages of a conversation newest first,
// skipping offset: unsent messages first, then by server sequence.
func (d *DB) Messages(ctx context.Context, convID int64, offset, limit int) ([]Message, error) {
	return d.queryMsgs(ctx, `SELECT `+msgCols+` FROM messages WHERE conv_id = ?
		ORDER BY seq IS NULL DESC, seq DESC, id DESC LIMIT ? OFFSET ?`, convID, limit, offset)
}

// queryMsgs runs a query of msgCols rows.
func (d *DB) queryMsgs(ctx context.Context, q string, args ...any) ([]Message, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMsg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// LatestMessage returns a conversation's newest message; ErrNotFound if it
// has none.
func (d *DB) LatestMessage(ctx context.Context, convID int64) (Message, error) {
	ms, err := d.Messages(ctx, convID, 0, 1)
	if err != nil {
		return Message{}, err
	}
	if len(ms) == 0 {
		return Message{}, ErrNotFound
	}
	return ms[0], nil
}

// Outbox returns up to limit messages waiting to be sent (status Sending,
// or SendUploadSucceed: media uploaded, message not sent yet), oldest
// first.
func (d *DB) Outbox(ctx context.Context, limit int) ([]Message, error) {
	return d.queryMsgs(ctx, `SELECT `+msgCols+` FROM messages WHERE status IN (?, ?) AND received = 0 ORDER BY id LIMIT ?`,
		statusSending, statusUploaded, limit)
}

// Queued reports whether status is one of a message waiting in the
// outbox.
func Queued(status int) bool { return status == statusSending || status == statusUploaded }

// CancelSending marks a message that is still waiting to be sent
// CanceledSend; it reports false if the message is no longer waiting.
func (d *DB) CancelSending(ctx context.Context, id int64) (bool, error) {
	var n int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET status = ?, error_code = ? WHERE id = ? AND status IN (?, ?)`,
			statusCanceled, codeCanceled, id, statusSending, statusUploaded)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n == 1, err
}

// Statuses and codes the outbox uses (jmsg.StatusSending,
// jmsg.StatusSendUploadSucceed, jmsg.StatusCanceledSend,
// jmsg.SDKMessageCancelSend).
const (
	statusSending  = 1
	statusUploaded = 3
	statusCanceled = 9
	codeCanceled   = 865011
)
