package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, m := range msgs {
			a, err := appendOne(ctx, tx, m)
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

func appendOne(ctx context.Context, tx *sql.Tx, m store.NewMessage) (store.Appended, error) {
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
	key := singleKey(m.SenderUID, m.TargetUID)
	err := tx.QueryRowContext(ctx, `UPDATE conversations SET last_seq = last_seq + 1
		WHERE app_key = ? AND key = ? RETURNING conv_id, last_seq`, m.AppKey, key).Scan(&a.ConvID, &a.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		a.Seq = 1
		err = tx.QueryRowContext(ctx, `INSERT INTO conversations (app_key, type, key, last_seq) VALUES (?, ?, ?, 1)
			RETURNING conv_id`, m.AppKey, jmsg.ConversationSingle, key).Scan(&a.ConvID)
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO conv_members (conv_id, uid, peer_uid) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, a.ConvID, m.SenderUID, m.TargetUID)
		}
		if err == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO conv_members (conv_id, uid, peer_uid) VALUES (?, ?, ?)
				ON CONFLICT DO NOTHING`, a.ConvID, m.TargetUID, m.SenderUID)
		}
	}
	if err != nil {
		return a, fmt.Errorf("advancing conversation: %w", err)
	}
	a.CTimeMs, a.Content = m.CTimeMs, m.Content
	err = tx.QueryRowContext(ctx, `INSERT INTO messages (conv_id, seq, sender_uid, cid, ctime, content)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING msg_id`, a.ConvID, a.Seq, m.SenderUID, m.ClientMsgID, m.CTimeMs, m.Content).Scan(&a.MsgID)
	if err != nil {
		return a, fmt.Errorf("inserting message: %w", err)
	}
	a.Keys = make(map[int64]int64, 2)
	for _, uid := range []int64{m.SenderUID, m.TargetUID} {
		if _, done := a.Keys[uid]; done {
			continue
		}
		var k int64
		if err := tx.QueryRowContext(ctx, `UPDATE users SET sync_key = sync_key + 1 WHERE uid = ? RETURNING sync_key`, uid).Scan(&k); err != nil {
			return a, fmt.Errorf("advancing change key: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE conv_members SET change_key = ? WHERE conv_id = ? AND uid = ?`, k, a.ConvID, uid); err != nil {
			return a, fmt.Errorf("recording change: %w", err)
		}
		a.Keys[uid] = k
	}
	return a, nil
}

// Changes implements store.Messages.
func (s *Store) Changes(ctx context.Context, appKey string, uid, since int64, limit int) ([]store.ConvChange, bool, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT m.conv_id, c.type, m.peer_uid, c.last_seq, m.change_key
		FROM conv_members m JOIN conversations c ON c.conv_id = m.conv_id
		WHERE m.uid = ? AND m.change_key > ? AND c.app_key = ?
		ORDER BY m.change_key LIMIT ?`, uid, since, appKey, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("reading changes: %w", err)
	}
	defer rows.Close()
	var out []store.ConvChange
	for rows.Next() {
		var c store.ConvChange
		if err := rows.Scan(&c.ConvID, &c.Type, &c.PeerUID, &c.LastSeq, &c.Key); err != nil {
			return nil, false, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// IsMember implements store.Messages.
func (s *Store) IsMember(ctx context.Context, appKey string, convID, uid int64) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM conv_members m JOIN conversations c ON c.conv_id = m.conv_id
		WHERE m.conv_id = ? AND m.uid = ? AND c.app_key = ?`, convID, uid, appKey).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("checking membership: %w", err)
	}
	return n > 0, nil
}

// History implements store.Messages.
func (s *Store) History(ctx context.Context, appKey string, convID, after, before int64, limit int) ([]store.StoredMessage, bool, error) {
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
	rows, err := s.r.QueryContext(ctx, q, args...)
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
