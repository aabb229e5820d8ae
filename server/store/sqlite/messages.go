package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// singleKey names the single conversation of two users, the same whichever
// of them sends.
func singleKey(a, b int64) string {
	if a > b {
		a, b = b, a
	}
	return fmt.Sprintf("s:%d:%d", a, b)
}

// Append implements store.Messages.
func (s *Store) Append(ctx context.Context, msgs []store.NewMessage) ([]store.Appended, error) {
	out := make([]store.Appended, len(msgs))
	err := s.inTx(ctx, func(tx ptx) error {
		lsn, err := nextLSN(ctx, tx)
		if err != nil {
			return err
		}
		ids, err := allocMsgIDs(ctx, tx, len(msgs))
		if err != nil {
			return err
		}
		for i, m := range msgs {
			a, err := appendOne(ctx, tx, m, lsn, ids+int64(i))
			if err != nil {
				return err
			}
			out[i] = a
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// nextLSN takes the transaction's change number.
func nextLSN(ctx context.Context, tx ptx) (int64, error) {
	var lsn int64
	if err := tx.QueryRowContext(ctx, `UPDATE counters SET value = value + 1 WHERE name = 'lsn' RETURNING value`).Scan(&lsn); err != nil {
		return 0, fmt.Errorf("advancing lsn: %w", err)
	}
	return lsn, nil
}

// allocMsgIDs takes n message ids and returns the first; ids are never
// handed out twice, even after retention removed the newest messages.
func allocMsgIDs(ctx context.Context, tx ptx, n int) (int64, error) {
	var last int64
	if err := tx.QueryRowContext(ctx, `UPDATE counters SET value = value + ? WHERE name = 'msg_id' RETURNING value`, n).Scan(&last); err != nil {
		return 0, fmt.Errorf("allocating message ids: %w", err)
	}
	return last - int64(n) + 1, nil
}

// appendOne stores m with id msgID (unless it is a duplicate).
func appendOne(ctx context.Context, tx ptx, m store.NewMessage, lsn, msgID int64) (store.Appended, error) {
	var a store.Appended
	if m.ClientMsgID != "" {
		err := tx.QueryRowContext(ctx, `SELECT msg_id, conv_id, seq, ctime, content FROM messages
			WHERE sender_uid = ? AND cid = ? AND cid != ''`, m.SenderUID, m.ClientMsgID).
			Scan(&a.MsgID, &a.ConvID, &a.Seq, &a.CTimeMs, &a.Content)
		if err == nil {
			a.Duplicate = true
			return a, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return a, fmt.Errorf("looking up client id: %w", err)
		}
	}
	var err error
	if m.ConvID != 0 {
		err = tx.QueryRowContext(ctx, `UPDATE conversations SET last_seq = last_seq + 1, change_lsn = ?
			WHERE app_key = ? AND conv_id = ? RETURNING conv_id, last_seq`, lsn, m.AppKey, m.ConvID).Scan(&a.ConvID, &a.Seq)
		if err != nil {
			return a, fmt.Errorf("advancing conversation %d: %w", m.ConvID, err)
		}
		a.MsgID = msgID
		return insertMessage(ctx, tx, m, a)
	}
	key := singleKey(m.SenderUID, m.TargetUID)
	err = tx.QueryRowContext(ctx, `UPDATE conversations SET last_seq = last_seq + 1, change_lsn = ?
		WHERE app_key = ? AND key = ? RETURNING conv_id, last_seq`, lsn, m.AppKey, key).Scan(&a.ConvID, &a.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		a.Seq = 1
		err = tx.QueryRowContext(ctx, `INSERT INTO conversations (app_key, type, key, last_seq, change_lsn) VALUES (?, ?, ?, 1, ?)
			RETURNING conv_id`, m.AppKey, jmsg.ConversationSingle, key, lsn).Scan(&a.ConvID)
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO conv_members (conv_id, uid, peer_uid) VALUES (?, ?, ?), (?, ?, ?)
				ON CONFLICT DO NOTHING`, a.ConvID, m.SenderUID, m.TargetUID, a.ConvID, m.TargetUID, m.SenderUID)
		}
	}
	if err != nil {
		return a, fmt.Errorf("advancing conversation: %w", err)
	}
	a.MsgID = msgID
	return insertMessage(ctx, tx, m, a)
}

// insertMessage stores m as message a.Seq of conversation a.ConvID with
// id a.MsgID.
func insertMessage(ctx context.Context, tx ptx, m store.NewMessage, a store.Appended) (store.Appended, error) {
	a.CTimeMs, a.Content = m.CTimeMs, m.Content
	_, err := tx.ExecContext(ctx, `INSERT INTO messages (msg_id, conv_id, seq, sender_uid, cid, ctime, content)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, a.MsgID, a.ConvID, a.Seq, m.SenderUID, m.ClientMsgID, m.CTimeMs, m.Content)
	if err != nil {
		return a, fmt.Errorf("inserting message: %w", err)
	}
	for _, id := range m.MediaIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO message_media (msg_id, media_id) VALUES (?, ?)
			ON CONFLICT DO NOTHING`, a.MsgID, id); err != nil {
			return a, fmt.Errorf("recording the message's media: %w", err)
		}
	}
	return a, nil
}

// qNewestLSN reads the newest committed LSN.
const qNewestLSN = `SELECT value FROM counters WHERE name = 'lsn'`

// qChanges reads a member's conversations changed after a cursor.
// A member who left sees the conversation change until they left:
// its last change for them is left_lsn, its last message left_seq.
const qChanges = `SELECT conv_id, type, peer_uid, gid, join_seq, read_seq, delivered_seq, last_seq, lsn,
		CASE WHEN conv_last = 0 THEN 0 ELSE coalesce((SELECT min(seq) FROM messages x WHERE x.conv_id = q.conv_id), conv_last + 1) END FROM (
	SELECT c.conv_id, c.type, m.peer_uid, coalesce((SELECT gid FROM groups g WHERE g.conv_id = c.conv_id), 0) AS gid,
		m.join_seq, m.read_seq, m.delivered_seq, c.last_seq AS conv_last,
		CASE WHEN m.left_seq > 0 THEN m.left_seq ELSE c.last_seq END AS last_seq,
		CASE WHEN m.left_seq > 0 THEN max(m.left_lsn, m.member_lsn) ELSE max(c.change_lsn, m.member_lsn) END AS lsn
	FROM conv_members m JOIN conversations c ON c.conv_id = m.conv_id
	WHERE m.uid = ? AND c.app_key = ?) q
	WHERE lsn > ? OR (lsn = ? AND conv_id > ?)
	ORDER BY lsn, conv_id LIMIT ?`

// Changes implements store.Messages. Both reads run in one transaction, so
// the cursor matches the snapshot the changes were read from: SQLite has
// one writer, so every LSN up to the newest committed one is visible.
func (s *Store) Changes(ctx context.Context, appKey string, uid int64, since store.Cursor, limit int) ([]store.ConvChange, store.Cursor, bool, error) {
	limit = max(limit, 0) // SQLite reads a negative LIMIT as none
	tx, err := s.beginRead(ctx, qNewestLSN, qChanges)
	if err != nil {
		return nil, since, false, fmt.Errorf("reading changes: %w", err)
	}
	defer tx.Rollback()
	var newest int64
	if err := tx.QueryRowContext(ctx, qNewestLSN).Scan(&newest); err != nil {
		return nil, since, false, fmt.Errorf("reading lsn: %w", err)
	}
	tieConv := since.ConvID
	if tieConv == 0 {
		tieConv = math.MaxInt64 // all of since.LSN has been seen
	}
	rows, err := tx.QueryContext(ctx, qChanges, uid, appKey, since.LSN, since.LSN, tieConv, limit+1)
	if err != nil {
		return nil, since, false, fmt.Errorf("reading changes: %w", err)
	}
	defer rows.Close()
	var out []store.ConvChange
	for rows.Next() {
		var c store.ConvChange
		if err := rows.Scan(&c.ConvID, &c.Type, &c.PeerUID, &c.GID, &c.JoinSeq, &c.ReadSeq, &c.DeliveredSeq, &c.LastSeq, &c.LSN, &c.FirstSeq); err != nil {
			return nil, since, false, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, since, false, err
	}
	if len(out) > limit {
		if limit == 0 {
			return nil, since, true, nil
		}
		out = out[:limit]
		last := out[limit-1]
		return out, store.Cursor{LSN: last.LSN, ConvID: last.ConvID}, true, nil
	}
	return out, store.Cursor{LSN: max(newest, since.LSN)}, false, nil
}

// MemberWindow implements store.Messages.
func (s *Store) MemberWindow(ctx context.Context, appKey string, convID, uid int64) (int64, int64, bool, error) {
	var join, left int64
	err := s.readRow(ctx, `SELECT m.join_seq, m.left_seq FROM conv_members m JOIN conversations c ON c.conv_id = m.conv_id
		WHERE m.conv_id = ? AND m.uid = ? AND c.app_key = ?`, convID, uid, appKey).Scan(&join, &left)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, fmt.Errorf("reading membership: %w", err)
	}
	return join, left, true, nil
}

// History implements store.Messages.
func (s *Store) History(ctx context.Context, appKey string, convID, after, before int64, limit int) ([]store.StoredMessage, bool, error) {
	limit = max(limit, 0) // SQLite reads a negative LIMIT as none
	q := `SELECT m.msg_id, m.conv_id, m.seq, m.sender_uid, m.cid, m.ctime, m.content
		FROM messages m JOIN conversations c ON c.conv_id = m.conv_id
		WHERE m.conv_id = ? AND c.app_key = ? AND m.seq > ? ORDER BY m.seq LIMIT ?`
	args := []any{convID, appKey, after, limit + 1}
	if before > 0 {
		q = `SELECT m.msg_id, m.conv_id, m.seq, m.sender_uid, m.cid, m.ctime, m.content
		FROM messages m JOIN conversations c ON c.conv_id = m.conv_id
		WHERE m.conv_id = ? AND c.app_key = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?`
		args = []any{convID, appKey, before, limit + 1}
	}
	rows, err := s.readQuery(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("reading history: %w", err)
	}
	defer rows.Close()
	var out []store.StoredMessage
	for rows.Next() {
		var m store.StoredMessage
		if err := rows.Scan(&m.MsgID, &m.ConvID, &m.Seq, &m.SenderUID, &m.ClientMsgID, &m.CTimeMs, &m.Content); err != nil {
			return nil, false, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// SetDelivered implements store.Messages.
func (s *Store) SetDelivered(ctx context.Context, appKey string, ds []store.Delivery) error {
	return s.inTx(ctx, func(tx ptx) error {
		for _, d := range ds {
			_, err := tx.ExecContext(ctx, `UPDATE conv_members SET delivered_seq = min(?, (SELECT last_seq FROM conversations WHERE conv_id = ?))
				WHERE conv_id = ? AND uid = ? AND delivered_seq < ?
				AND EXISTS (SELECT 1 FROM conversations WHERE conv_id = ? AND app_key = ?)`,
				d.Seq, d.ConvID, d.ConvID, d.UID, d.Seq, d.ConvID, appKey)
			if err != nil {
				return fmt.Errorf("recording delivery: %w", err)
			}
		}
		return nil
	})
}

// Delivered implements store.Messages.
func (s *Store) Delivered(ctx context.Context, appKey string, convID, uid int64) (int64, error) {
	var seq int64
	err := s.readRow(ctx, `SELECT m.delivered_seq FROM conv_members m JOIN conversations c ON c.conv_id = m.conv_id
		WHERE m.conv_id = ? AND m.uid = ? AND c.app_key = ?`, convID, uid, appKey).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, err
}

// SetRead implements store.Messages.
func (s *Store) SetRead(ctx context.Context, appKey string, convID, uid, seq int64) (int64, bool, error) {
	var pos int64
	var moved bool
	err := s.inTx(ctx, func(tx ptx) error {
		var read, readable int64
		err := tx.QueryRowContext(ctx, `SELECT m.read_seq, CASE WHEN m.left_seq > 0 THEN m.left_seq ELSE c.last_seq END
			FROM conv_members m JOIN conversations c ON c.conv_id = m.conv_id
			WHERE m.conv_id = ? AND m.uid = ? AND c.app_key = ?`, convID, uid, appKey).Scan(&read, &readable)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("reading read position: %w", err)
		}
		pos = max(read, min(seq, readable))
		if pos == read {
			return nil
		}
		moved = true
		lsn, err := nextLSN(ctx, tx)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE conv_members SET read_seq = ?, member_lsn = ? WHERE conv_id = ? AND uid = ?`, pos, lsn, convID, uid)
		return err
	})
	return pos, moved, err
}

// Purge implements store.Messages. It deletes in chunks so that the
// single writer is never held for long.
func (s *Store) Purge(ctx context.Context, beforeMs int64) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.inTx(ctx, func(tx ptx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE msg_id IN (SELECT msg_id FROM messages WHERE ctime < ? LIMIT 5000)`, beforeMs)
			if err != nil {
				return fmt.Errorf("purging: %w", err)
			}
			n, _ = res.RowsAffected()
			if n == 0 {
				return nil
			}
			// Every deleted message was committed before beforeMs, so before
			// the oldest mark taken at or after it; without such a mark, before
			// now.
			_, err = tx.ExecContext(ctx, `UPDATE counters SET value = max(value, coalesce(
				(SELECT min(lsn) FROM lsn_marks WHERE ms >= ?), (SELECT value FROM counters WHERE name = 'lsn')))
				WHERE name = 'purged_lsn'`, beforeMs)
			return err
		})
		total += n
		if err != nil || n < 5000 {
			return total, err
		}
	}
}

// MarkLSN implements store.Messages. Marks older than a day before the
// oldest message still kept are dropped.
func (s *Store) MarkLSN(ctx context.Context, nowMs int64) error {
	return s.inTx(ctx, func(tx ptx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO lsn_marks (lsn, ms) SELECT value, ? FROM counters WHERE name = 'lsn'`, nowMs); err != nil {
			return fmt.Errorf("marking lsn: %w", err)
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM lsn_marks WHERE ms < coalesce((SELECT min(ctime) FROM messages), ?) - 86400000`, nowMs)
		return err
	})
}

// PurgedLSN implements store.Messages.
func (s *Store) PurgedLSN(ctx context.Context) (int64, error) {
	var v int64
	err := s.readRow(ctx, `SELECT value FROM counters WHERE name = 'purged_lsn'`).Scan(&v)
	return v, err
}

// FirstSeq implements store.Messages.
func (s *Store) FirstSeq(ctx context.Context, appKey string, convID int64) (int64, error) {
	var v int64
	err := s.readRow(ctx, `SELECT CASE WHEN c.last_seq = 0 THEN 0
			ELSE coalesce((SELECT min(seq) FROM messages m WHERE m.conv_id = c.conv_id), c.last_seq + 1) END
		FROM conversations c WHERE c.conv_id = ? AND c.app_key = ?`, convID, appKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}
