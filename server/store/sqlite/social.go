package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmsg-im/jmsg/server/store"
)

// inApp checks, inside tx, that every id is a row of table (users or
// groups, keyed by col) in appKey: store.ErrNotFound if one is not.
func inApp(ctx context.Context, tx ptx, table, col, appKey string, ids []int64) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := []any{appKey}
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		var found int
		q := `SELECT count(*) FROM ` + table + ` WHERE app_key = ? AND ` + col + ` IN (?` + strings.Repeat(",?", n-1) + `)`
		if err := tx.QueryRowContext(ctx, q, args...).Scan(&found); err != nil {
			return fmt.Errorf("checking %s: %w", table, err)
		}
		if found != n {
			return store.ErrNotFound
		}
		ids = ids[n:]
	}
	return nil
}

// usersInApp is inApp for users: owner and every uid of uids.
func usersInApp(ctx context.Context, tx ptx, appKey string, owner int64, uids []int64) error {
	return inApp(ctx, tx, "users", "uid", appKey, append([]int64{owner}, uids...))
}

// insertEach runs q once per uid with (owner, uid, extra...) as
// arguments; a uid already there is store.ErrExists.
func insertEach(ctx context.Context, tx ptx, q string, owner int64, uids []int64, extra ...any) error {
	for _, uid := range uids {
		if _, err := tx.ExecContext(ctx, q, append([]any{owner, uid}, extra...)...); err != nil {
			if isConstraint(err) {
				return store.ErrExists
			}
			return fmt.Errorf("inserting: %w", err)
		}
	}
	return nil
}

// deleteEach runs q once per uid with (owner, uid) as arguments; a uid
// that deletes no row is store.ErrNotFound.
func deleteEach(ctx context.Context, tx ptx, q string, owner int64, uids []int64) error {
	for _, uid := range uids {
		res, err := tx.ExecContext(ctx, q, owner, uid)
		if err != nil {
			return fmt.Errorf("deleting: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
	}
	return nil
}

// ids runs a query of one integer column.
func (s *Store) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := s.readQuery(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Blacklist implements store.Social.
func (s *Store) Blacklist(ctx context.Context, appKey string, owner int64) ([]int64, error) {
	out, err := s.ids(ctx, `SELECT b.uid FROM blacklist b JOIN users o ON o.uid = b.owner_uid
		WHERE o.app_key = ? AND b.owner_uid = ? ORDER BY b.rowid`, appKey, owner)
	if err != nil {
		return nil, fmt.Errorf("reading blacklist: %w", err)
	}
	return out, nil
}

// AddBlacklist implements store.Social.
func (s *Store) AddBlacklist(ctx context.Context, appKey string, owner int64, uids []int64) error {
	return s.inTx(ctx, func(tx ptx) error {
		if err := usersInApp(ctx, tx, appKey, owner, uids); err != nil {
			return err
		}
		return insertEach(ctx, tx, `INSERT INTO blacklist (owner_uid, uid, ctime) VALUES (?, ?, ?)`, owner, uids, time.Now().UnixMilli())
	})
}

// RemoveBlacklist implements store.Social.
func (s *Store) RemoveBlacklist(ctx context.Context, appKey string, owner int64, uids []int64) error {
	return s.inTx(ctx, func(tx ptx) error {
		if err := usersInApp(ctx, tx, appKey, owner, uids); err != nil {
			return err
		}
		return deleteEach(ctx, tx, `DELETE FROM blacklist WHERE owner_uid = ? AND uid = ?`, owner, uids)
	})
}

// Friends implements store.Social.
func (s *Store) Friends(ctx context.Context, appKey string, owner int64) ([]store.Friend, error) {
	rows, err := s.readQuery(ctx, `SELECT f.uid, f.note_name, f.others, f.ctime FROM friends f JOIN users o ON o.uid = f.owner_uid
		WHERE o.app_key = ? AND f.owner_uid = ? ORDER BY f.rowid`, appKey, owner)
	if err != nil {
		return nil, fmt.Errorf("reading friends: %w", err)
	}
	defer rows.Close()
	out := []store.Friend{}
	for rows.Next() {
		var f store.Friend
		if err := rows.Scan(&f.UID, &f.NoteName, &f.Others, &f.CTimeMs); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// AddFriends implements store.Social.
func (s *Store) AddFriends(ctx context.Context, appKey string, owner int64, uids []int64) error {
	return s.inTx(ctx, func(tx ptx) error {
		if err := usersInApp(ctx, tx, appKey, owner, uids); err != nil {
			return err
		}
		now := time.Now().UnixMilli()
		const q = `INSERT INTO friends (owner_uid, uid, ctime) VALUES (?, ?, ?)`
		for _, uid := range uids {
			if err := insertEach(ctx, tx, q, owner, []int64{uid}, now); err != nil {
				return err
			}
			if err := insertEach(ctx, tx, q, uid, []int64{owner}, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveFriends implements store.Social.
func (s *Store) RemoveFriends(ctx context.Context, appKey string, owner int64, uids []int64) error {
	return s.inTx(ctx, func(tx ptx) error {
		if err := usersInApp(ctx, tx, appKey, owner, uids); err != nil {
			return err
		}
		const q = `DELETE FROM friends WHERE owner_uid = ? AND uid = ?`
		if err := deleteEach(ctx, tx, q, owner, uids); err != nil {
			return err
		}
		for _, uid := range uids {
			if _, err := tx.ExecContext(ctx, q, uid, owner); err != nil {
				return fmt.Errorf("deleting: %w", err)
			}
		}
		return nil
	})
}

// SetFriendNotes implements store.Social.
func (s *Store) SetFriendNotes(ctx context.Context, appKey string, owner int64, notes []store.FriendNote) error {
	return s.inTx(ctx, func(tx ptx) error {
		uids := make([]int64, len(notes))
		for i, n := range notes {
			uids[i] = n.UID
		}
		if err := usersInApp(ctx, tx, appKey, owner, uids); err != nil {
			return err
		}
		for _, n := range notes {
			res, err := tx.ExecContext(ctx, `UPDATE friends SET note_name = coalesce(?, note_name), others = coalesce(?, others)
				WHERE owner_uid = ? AND uid = ?`, nullable(n.NoteName), nullable(n.Others), owner, n.UID)
			if err != nil {
				return fmt.Errorf("updating friend notes: %w", err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return store.ErrNotFound
			}
		}
		return nil
	})
}

func nullable(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}

// NoDisturb implements store.Social.
func (s *Store) NoDisturb(ctx context.Context, appKey string, uid int64) (store.NoDisturb, error) {
	const (
		qUsers = `SELECT n.uid FROM nodisturb_users n JOIN users o ON o.uid = n.owner_uid
			WHERE o.app_key = ? AND n.owner_uid = ? ORDER BY n.uid`
		qGroups = `SELECT n.gid FROM nodisturb_groups n JOIN users o ON o.uid = n.uid
			WHERE o.app_key = ? AND n.uid = ? ORDER BY n.gid`
		qGlobal = `SELECT count(*) FROM nodisturb_global n JOIN users o ON o.uid = n.uid WHERE o.app_key = ? AND n.uid = ?`
	)
	var nd store.NoDisturb
	tx, err := s.beginRead(ctx, qUsers, qGroups, qGlobal)
	if err != nil {
		return nd, fmt.Errorf("reading no-disturb: %w", err)
	}
	defer tx.Rollback()
	for _, part := range []struct {
		q   string
		dst *[]int64
	}{{qUsers, &nd.Users}, {qGroups, &nd.Groups}} {
		rows, err := tx.QueryContext(ctx, part.q, appKey, uid)
		if err != nil {
			return nd, fmt.Errorf("reading no-disturb: %w", err)
		}
		*part.dst = []int64{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nd, err
			}
			*part.dst = append(*part.dst, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nd, err
		}
	}
	var on int
	if err := tx.QueryRowContext(ctx, qGlobal, appKey, uid).Scan(&on); err != nil {
		return nd, fmt.Errorf("reading no-disturb: %w", err)
	}
	nd.Global = on > 0
	return nd, nil
}

// ChangeNoDisturb implements store.Social.
func (s *Store) ChangeNoDisturb(ctx context.Context, appKey string, uid int64, ch store.NoDisturbChange) error {
	return s.inTx(ctx, func(tx ptx) error {
		if err := usersInApp(ctx, tx, appKey, uid, slices.Concat(ch.AddUsers, ch.RemoveUsers)); err != nil {
			return err
		}
		if err := inApp(ctx, tx, "groups", "gid", appKey, slices.Concat(ch.AddGroups, ch.RemoveGroups)); err != nil {
			return err
		}
		if err := insertEach(ctx, tx, `INSERT INTO nodisturb_users (owner_uid, uid) VALUES (?, ?)`, uid, ch.AddUsers); err != nil {
			return err
		}
		if err := deleteEach(ctx, tx, `DELETE FROM nodisturb_users WHERE owner_uid = ? AND uid = ?`, uid, ch.RemoveUsers); err != nil {
			return err
		}
		if err := insertEach(ctx, tx, `INSERT INTO nodisturb_groups (uid, gid) VALUES (?, ?)`, uid, ch.AddGroups); err != nil {
			return err
		}
		if err := deleteEach(ctx, tx, `DELETE FROM nodisturb_groups WHERE uid = ? AND gid = ?`, uid, ch.RemoveGroups); err != nil {
			return err
		}
		if ch.Global == nil {
			return nil
		}
		q := `DELETE FROM nodisturb_global WHERE uid = ?`
		if *ch.Global {
			q = `INSERT INTO nodisturb_global (uid) VALUES (?) ON CONFLICT DO NOTHING`
		}
		if _, err := tx.ExecContext(ctx, q, uid); err != nil {
			return fmt.Errorf("setting global no-disturb: %w", err)
		}
		return nil
	})
}

// ShieldedGroups implements store.Social.
func (s *Store) ShieldedGroups(ctx context.Context, appKey string, uid int64) ([]int64, error) {
	out, err := s.ids(ctx, `SELECT sh.gid FROM group_shields sh JOIN groups g ON g.gid = sh.gid
		WHERE g.app_key = ? AND sh.uid = ? ORDER BY sh.gid`, appKey, uid)
	if err != nil {
		return nil, fmt.Errorf("reading group shields: %w", err)
	}
	return out, nil
}

// GroupShielders implements store.Social.
func (s *Store) GroupShielders(ctx context.Context, appKey string, gid int64) ([]int64, error) {
	out, err := s.ids(ctx, `SELECT sh.uid FROM group_shields sh JOIN groups g ON g.gid = sh.gid
		WHERE g.app_key = ? AND sh.gid = ? ORDER BY sh.uid`, appKey, gid)
	if err != nil {
		return nil, fmt.Errorf("reading group shields: %w", err)
	}
	return out, nil
}

// ChangeShields implements store.Social.
func (s *Store) ChangeShields(ctx context.Context, appKey string, uid int64, add, remove []int64) error {
	return s.inTx(ctx, func(tx ptx) error {
		if err := usersInApp(ctx, tx, appKey, uid, nil); err != nil {
			return err
		}
		if err := inApp(ctx, tx, "groups", "gid", appKey, slices.Concat(add, remove)); err != nil {
			return err
		}
		// (uid, gid) as insertEach and deleteEach pass them.
		if err := insertEach(ctx, tx, `INSERT INTO group_shields (uid, gid) VALUES (?, ?)`, uid, add); err != nil {
			return err
		}
		return deleteEach(ctx, tx, `DELETE FROM group_shields WHERE uid = ? AND gid = ?`, uid, remove)
	})
}

// DeleteUserSocial implements store.Social.
func (s *Store) DeleteUserSocial(ctx context.Context, appKey string, uid int64) error {
	return s.inTx(ctx, func(tx ptx) error {
		if err := usersInApp(ctx, tx, appKey, uid, nil); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM blacklist WHERE owner_uid = ?1 OR uid = ?1`,
			`DELETE FROM friends WHERE owner_uid = ?1 OR uid = ?1`,
			`DELETE FROM nodisturb_users WHERE owner_uid = ?1 OR uid = ?1`,
			`DELETE FROM nodisturb_groups WHERE uid = ?1`,
			`DELETE FROM nodisturb_global WHERE uid = ?1`,
			`DELETE FROM group_shields WHERE uid = ?1`,
		} {
			if _, err := tx.ExecContext(ctx, q, uid); err != nil {
				return fmt.Errorf("deleting social rows: %w", err)
			}
		}
		return nil
	})
}
