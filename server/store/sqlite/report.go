package sqlite

import (
	"context"
	"fmt"

	"github.com/jmsg-im/jmsg/server/store"
)

// reportFrom returns the FROM and WHERE clauses of q's scope (before the
// time range) and their arguments. A user's messages are those they sent
// and those within their window (after join_seq, up to left_seq when they
// left) of each conversation they belong to; the app's messages are
// found by time (messages_by_time), a conversation's and a user's by
// conversation and time (messages_by_conv_time).
func reportFrom(q store.MessageQuery) (string, []any) {
	switch {
	case q.ConvID != 0:
		return `FROM messages m JOIN conversations c ON c.conv_id = m.conv_id
			WHERE m.conv_id = ? AND c.app_key = ?`, []any{q.ConvID, q.AppKey}
	case q.UID != 0:
		return `FROM conv_members cm JOIN conversations c ON c.conv_id = cm.conv_id
			JOIN messages m ON m.conv_id = cm.conv_id
			WHERE cm.uid = ? AND c.app_key = ?
			AND (m.sender_uid = cm.uid OR (m.seq > cm.join_seq AND (cm.left_seq = 0 OR m.seq <= cm.left_seq)))`,
			[]any{q.UID, q.AppKey}
	}
	// CROSS JOIN keeps messages the outer loop: read in time order from
	// messages_by_time, a page stops at its limit instead of sorting the
	// whole window.
	return `FROM messages m CROSS JOIN conversations c ON c.conv_id = m.conv_id
		WHERE c.app_key = ?`, []any{q.AppKey}
}

// ReportMessages implements store.Reports.
func (s *Store) ReportMessages(ctx context.Context, q store.MessageQuery, pos store.ReportPos, offset, limit int) ([]store.StoredMessage, error) {
	from, args := reportFrom(q)
	query := `SELECT m.msg_id, m.conv_id, m.seq, m.sender_uid, m.cid, m.ctime, m.content ` + from + `
		AND m.ctime >= ? AND m.ctime < ? AND (m.ctime > ? OR (m.ctime = ? AND m.msg_id > ?))
		ORDER BY m.ctime, m.msg_id LIMIT ? OFFSET ?`
	// The position also raises the range's start, so that a later page
	// does not read the earlier ones again.
	args = append(args, max(q.FromMs, pos.CTimeMs), q.ToMs, pos.CTimeMs, pos.CTimeMs, pos.MsgID, max(limit, 0), max(offset, 0))
	rows, err := s.readQuery(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading report messages: %w", err)
	}
	defer rows.Close()
	var out []store.StoredMessage
	for rows.Next() {
		var m store.StoredMessage
		if err := rows.Scan(&m.MsgID, &m.ConvID, &m.Seq, &m.SenderUID, &m.ClientMsgID, &m.CTimeMs, &m.Content); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CountReportMessages implements store.Reports.
func (s *Store) CountReportMessages(ctx context.Context, q store.MessageQuery) (int, error) {
	from, args := reportFrom(q)
	var n int
	err := s.readRow(ctx, `SELECT count(*) `+from+` AND m.ctime >= ? AND m.ctime < ?`, append(args, q.FromMs, q.ToMs)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting report messages: %w", err)
	}
	return n, nil
}
