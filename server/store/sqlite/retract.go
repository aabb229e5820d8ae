package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmsg-im/jmsg/server/store"
)

// LookupMessage implements store.Retractions.
func (s *Store) LookupMessage(ctx context.Context, appKey string, msgID int64) (store.MessageRef, error) {
	var m store.MessageRef
	err := s.readRow(ctx, `SELECT m.msg_id, m.conv_id, m.seq, m.sender_uid, m.cid, m.ctime, m.content, c.type,
			coalesce((SELECT gid FROM groups g WHERE g.conv_id = m.conv_id), 0),
			coalesce((SELECT peer_uid FROM conv_members cm WHERE cm.conv_id = m.conv_id AND cm.uid = m.sender_uid), 0),
			EXISTS (SELECT 1 FROM retractions r WHERE r.msg_id = m.msg_id)
		FROM messages m JOIN conversations c ON c.conv_id = m.conv_id
		WHERE m.msg_id = ? AND c.app_key = ?`, msgID, appKey).
		Scan(&m.MsgID, &m.ConvID, &m.Seq, &m.SenderUID, &m.ClientMsgID, &m.CTimeMs, &m.Content, &m.ConvType,
			&m.GID, &m.PeerUID, &m.Retracted)
	if errors.Is(err, sql.ErrNoRows) {
		return m, store.ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("reading message %d: %w", msgID, err)
	}
	return m, nil
}

// Retract implements store.Retractions.
func (s *Store) Retract(ctx context.Context, appKey string, msgID, uid int64, content []byte, nowMs int64) error {
	return s.inTx(ctx, func(tx ptx) error {
		var retracted bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM retractions r WHERE r.msg_id = m.msg_id)
			FROM messages m JOIN conversations c ON c.conv_id = m.conv_id
			WHERE m.msg_id = ? AND c.app_key = ?`, msgID, appKey).Scan(&retracted)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("reading message %d: %w", msgID, err)
		}
		if retracted {
			return store.ErrExists
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO retractions (msg_id, uid, ctime) VALUES (?, ?, ?)`, msgID, uid, nowMs); err != nil {
			return fmt.Errorf("recording retraction: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET content = ? WHERE msg_id = ?`, content, msgID); err != nil {
			return fmt.Errorf("replacing retracted content: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM message_media WHERE msg_id = ?`, msgID); err != nil {
			return fmt.Errorf("forgetting retracted media: %w", err)
		}
		return nil
	})
}
