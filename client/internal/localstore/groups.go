package localstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Membership is what the client knows of its user's membership of a group.
type Membership int

// Memberships.
const (
	MembershipUnknown Membership = iota
	Member
	NotMember
)

// SetMembership records whether the user belongs to gid.
func (d *DB) SetMembership(ctx context.Context, gid int64, member bool) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO groups (gid, is_member, mtime) VALUES (?, ?, ?)
			ON CONFLICT (gid) DO UPDATE SET is_member = excluded.is_member, mtime = excluded.mtime`,
			gid, member, time.Now().UnixMilli())
		return err
	})
}

// Membership returns what the client knows of the user's membership of gid.
func (d *DB) Membership(ctx context.Context, gid int64) (Membership, error) {
	var m sql.NullBool
	err := d.db.QueryRowContext(ctx, `SELECT is_member FROM groups WHERE gid = ?`, gid).Scan(&m)
	switch {
	case errors.Is(err, sql.ErrNoRows) || (err == nil && !m.Valid):
		return MembershipUnknown, nil
	case err != nil:
		return MembershipUnknown, err
	case m.Bool:
		return Member, nil
	}
	return NotMember, nil
}

// SetGroupInfo caches a group's description (JSON).
func (d *DB) SetGroupInfo(ctx context.Context, gid int64, info string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO groups (gid, info, mtime) VALUES (?, ?, ?)
			ON CONFLICT (gid) DO UPDATE SET info = excluded.info, mtime = excluded.mtime`, gid, info, time.Now().UnixMilli())
		return err
	})
}

// GroupInfo returns the cached description of gid, "" if none.
func (d *DB) GroupInfo(ctx context.Context, gid int64) (string, error) {
	var info string
	err := d.db.QueryRowContext(ctx, `SELECT info FROM groups WHERE gid = ?`, gid).Scan(&info)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return info, err
}
