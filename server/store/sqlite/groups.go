package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

const groupCols = `gid, app_key, conv_id, name, description, avatar, type, max_members, owner_uid, ctime, mtime, dissolved`

func scanGroup(sc interface{ Scan(...any) error }) (store.Group, error) {
	var g store.Group
	err := sc.Scan(&g.GID, &g.AppKey, &g.ConvID, &g.Name, &g.Desc, &g.Avatar, &g.Type, &g.MaxMembers, &g.OwnerUID,
		&g.CTimeMs, &g.MTimeMs, &g.Dissolved)
	if errors.Is(err, sql.ErrNoRows) {
		return g, store.ErrNotFound
	}
	return g, err
}

// CreateGroup implements store.Groups.
func (s *Store) CreateGroup(ctx context.Context, g store.Group, members []store.GroupMember, event func(store.Group) store.NewMessage) (store.Group, store.Appended, error) {
	var a store.Appended
	now := time.Now().UnixMilli()
	g.CTimeMs, g.MTimeMs, g.Dissolved = now, now, false
	err := s.inTx(ctx, func(tx ptx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO groups (app_key, name, description, avatar, type, max_members, owner_uid, ctime, mtime)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING gid`, g.AppKey, g.Name, g.Desc, g.Avatar, g.Type, g.MaxMembers,
			g.OwnerUID, now, now).Scan(&g.GID)
		if err != nil {
			return fmt.Errorf("creating group: %w", err)
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO conversations (app_key, type, key) VALUES (?, ?, ?) RETURNING conv_id`,
			g.AppKey, jmsg.ConversationGroup, fmt.Sprintf("g:%d", g.GID)).Scan(&g.ConvID)
		if err != nil {
			return fmt.Errorf("creating group conversation: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE groups SET conv_id = ? WHERE gid = ?`, g.ConvID, g.GID); err != nil {
			return err
		}
		lsn, err := nextLSN(ctx, tx)
		if err != nil {
			return err
		}
		ev := event(g)
		ev.ConvID = g.ConvID
		id, err := allocMsgIDs(ctx, tx, 1)
		if err != nil {
			return err
		}
		if a, err = appendOne(ctx, tx, ev, lsn, id); err != nil {
			return err
		}
		return addMembers(ctx, tx, g, members, a.Seq, now)
	})
	return g, a, err
}

// addMembers inserts members who may read from message seq on.
func addMembers(ctx context.Context, tx ptx, g store.Group, members []store.GroupMember, seq, now int64) error {
	for _, m := range members {
		if m.JoinTimeMs == 0 {
			m.JoinTimeMs = now
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_members (gid, uid, role, join_time) VALUES (?, ?, ?, ?)`,
			g.GID, m.UID, m.Role, m.JoinTimeMs); err != nil {
			if isConstraint(err) {
				return store.ErrExists
			}
			return fmt.Errorf("adding member: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO conv_members (conv_id, uid, join_seq) VALUES (?, ?, ?)
			ON CONFLICT (conv_id, uid) DO UPDATE SET join_seq = excluded.join_seq, left_seq = 0, left_lsn = 0`,
			g.ConvID, m.UID, seq-1); err != nil {
			return fmt.Errorf("adding member to conversation: %w", err)
		}
	}
	return nil
}

// Group implements store.Groups.
func (s *Store) Group(ctx context.Context, appKey string, gid int64) (store.Group, error) {
	return scanGroup(s.readRow(ctx, `SELECT `+groupCols+` FROM groups WHERE app_key = ? AND gid = ?`, appKey, gid))
}

// GroupMembers implements store.Groups.
func (s *Store) GroupMembers(ctx context.Context, appKey string, gid int64) ([]store.GroupMember, error) {
	rows, err := s.readQuery(ctx, `SELECT m.uid, m.role, m.join_time, m.silence_start, m.silence_end
		FROM group_members m JOIN groups g ON g.gid = m.gid
		WHERE m.gid = ? AND g.app_key = ? ORDER BY m.role = 1 DESC, m.join_time, m.uid`, gid, appKey)
	if err != nil {
		return nil, fmt.Errorf("reading members: %w", err)
	}
	defer rows.Close()
	var out []store.GroupMember
	for rows.Next() {
		var m store.GroupMember
		if err := rows.Scan(&m.UID, &m.Role, &m.JoinTimeMs, &m.SilenceStartMs, &m.SilenceEndMs); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *Store) queryGroups(ctx context.Context, q string, args ...any) ([]store.Group, error) {
	rows, err := s.readQuery(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading groups: %w", err)
	}
	defer rows.Close()
	var out []store.Group
	for rows.Next() {
		g, err := scanGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// UserGroups implements store.Groups.
func (s *Store) UserGroups(ctx context.Context, appKey string, uid int64) ([]store.Group, error) {
	return s.queryGroups(ctx, `SELECT `+groupCols+` FROM groups WHERE app_key = ? AND dissolved = 0
		AND gid IN (SELECT gid FROM group_members WHERE uid = ?) ORDER BY gid`, appKey, uid)
}

// GroupCounts implements store.Groups.
func (s *Store) GroupCounts(ctx context.Context, appKey string, uids []int64) (map[int64]int, map[int64]int, error) {
	member, owned := map[int64]int{}, map[int64]int{}
	for _, uid := range uids {
		var m, o int
		err := s.readRow(ctx, `SELECT count(*), coalesce(sum(gm.role = 1), 0) FROM group_members gm
			JOIN groups g ON g.gid = gm.gid WHERE gm.uid = ? AND g.app_key = ? AND g.dissolved = 0`, uid, appKey).Scan(&m, &o)
		if err != nil {
			return nil, nil, fmt.Errorf("counting groups: %w", err)
		}
		member[uid], owned[uid] = m, o
	}
	return member, owned, nil
}

// PublicGroups implements store.Groups.
func (s *Store) PublicGroups(ctx context.Context, appKey string, start, count int) ([]store.Group, int, error) {
	var total int
	if err := s.readRow(ctx, `SELECT count(*) FROM groups WHERE app_key = ? AND type = 2 AND dissolved = 0`, appKey).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting public groups: %w", err)
	}
	gs, err := s.queryGroups(ctx, `SELECT `+groupCols+` FROM groups WHERE app_key = ? AND type = 2 AND dissolved = 0
		ORDER BY gid LIMIT ? OFFSET ?`, appKey, max(count, 0), max(start, 0))
	return gs, total, err
}

// ListGroups implements store.Groups.
func (s *Store) ListGroups(ctx context.Context, appKey string, start, count int) ([]store.Group, int, error) {
	var total int
	if err := s.readRow(ctx, `SELECT count(*) FROM groups WHERE app_key = ? AND dissolved = 0`, appKey).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting groups: %w", err)
	}
	gs, err := s.queryGroups(ctx, `SELECT `+groupCols+` FROM groups WHERE app_key = ? AND dissolved = 0
		ORDER BY gid LIMIT ? OFFSET ?`, appKey, max(count, 0), max(start, 0))
	return gs, total, err
}

// ApplyGroupChange implements store.Groups.
func (s *Store) ApplyGroupChange(ctx context.Context, ch store.GroupChange) (store.Appended, error) {
	var a store.Appended
	now := time.Now().UnixMilli()
	err := s.inTx(ctx, func(tx ptx) error {
		g, err := scanGroup(tx.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups WHERE app_key = ? AND gid = ?`, ch.AppKey, ch.GID))
		if err != nil {
			return err
		}
		if ch.Application != 0 {
			res, err := tx.ExecContext(ctx, `UPDATE group_applications SET status = ? WHERE event_id = ? AND gid = ? AND status = 0`,
				ch.ApplicationStatus, ch.Application, ch.GID)
			if err != nil {
				return fmt.Errorf("resolving application: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return store.ErrNotFound
			}
		}
		if ch.Event.Content == nil {
			return nil
		}
		lsn, err := nextLSN(ctx, tx)
		if err != nil {
			return err
		}
		ch.Event.ConvID = g.ConvID
		id, err := allocMsgIDs(ctx, tx, 1)
		if err != nil {
			return err
		}
		if a, err = appendOne(ctx, tx, ch.Event, lsn, id); err != nil {
			return err
		}
		if ch.Info != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE groups SET name = ?, description = ?, avatar = ?, type = ?, owner_uid = ?, mtime = ?
				WHERE gid = ?`, ch.Info.Name, ch.Info.Desc, ch.Info.Avatar, ch.Info.Type, ch.Info.OwnerUID, now, g.GID); err != nil {
				return fmt.Errorf("updating group: %w", err)
			}
		}
		if err := addMembers(ctx, tx, g, ch.Add, a.Seq, now); err != nil {
			return err
		}
		for _, m := range ch.Update {
			if _, err := tx.ExecContext(ctx, `UPDATE group_members SET role = ?, silence_start = ?, silence_end = ? WHERE gid = ? AND uid = ?`,
				m.Role, m.SilenceStartMs, m.SilenceEndMs, g.GID, m.UID); err != nil {
				return fmt.Errorf("updating member: %w", err)
			}
		}
		leave := ch.Remove
		if ch.Dissolve {
			if _, err := tx.ExecContext(ctx, `UPDATE groups SET dissolved = 1, mtime = ? WHERE gid = ?`, now, g.GID); err != nil {
				return err
			}
			leave = nil
			rows, err := tx.QueryContext(ctx, `SELECT uid FROM group_members WHERE gid = ?`, g.GID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var uid int64
				if err := rows.Scan(&uid); err != nil {
					rows.Close()
					return err
				}
				leave = append(leave, uid)
			}
			rows.Close()
		}
		for _, uid := range leave {
			if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE gid = ? AND uid = ?`, g.GID, uid); err != nil {
				return fmt.Errorf("removing member: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE conv_members SET left_seq = ?, left_lsn = ? WHERE conv_id = ? AND uid = ?`,
				a.Seq, lsn, g.ConvID, uid); err != nil {
				return fmt.Errorf("removing member from conversation: %w", err)
			}
		}
		return nil
	})
	return a, err
}

// CreateApplication implements store.Groups.
func (s *Store) CreateApplication(ctx context.Context, appKey string, a store.Application) (store.Application, error) {
	a.CTimeMs, a.Status = time.Now().UnixMilli(), 0
	err := s.w.QueryRowContext(ctx, `INSERT INTO group_applications (gid, uid, reason, ctime)
		SELECT gid, ?, ?, ? FROM groups WHERE gid = ? AND app_key = ? RETURNING event_id`,
		a.UID, a.Reason, a.CTimeMs, a.GID, appKey).Scan(&a.EventID)
	if isConstraint(err) {
		return a, store.ErrExists
	}
	if errors.Is(err, sql.ErrNoRows) {
		return a, store.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("creating application: %w", err)
	}
	return a, nil
}

// ApplicationByID implements store.Groups.
func (s *Store) ApplicationByID(ctx context.Context, appKey string, eventID int64) (store.Application, error) {
	var a store.Application
	err := s.readRow(ctx, `SELECT a.event_id, a.gid, a.uid, a.reason, a.status, a.ctime
		FROM group_applications a JOIN groups g ON g.gid = a.gid WHERE a.event_id = ? AND g.app_key = ?`, eventID, appKey).
		Scan(&a.EventID, &a.GID, &a.UID, &a.Reason, &a.Status, &a.CTimeMs)
	if errors.Is(err, sql.ErrNoRows) {
		return a, store.ErrNotFound
	}
	return a, err
}
