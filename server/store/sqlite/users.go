package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// CreateApp implements store.Apps.
func (s *Store) CreateApp(ctx context.Context, a store.App) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO apps (app_key, master_secret, name, ctime) VALUES (?, ?, ?, ?)`,
		a.AppKey, a.MasterSecret, a.Name, a.CTimeMs)
	if isConstraint(err) {
		return store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("creating app: %w", err)
	}
	return nil
}

// App implements store.Apps.
func (s *Store) App(ctx context.Context, appKey string) (store.App, error) {
	var a store.App
	err := s.readRow(ctx, `SELECT app_key, master_secret, name, ctime FROM apps WHERE app_key = ?`, appKey).
		Scan(&a.AppKey, &a.MasterSecret, &a.Name, &a.CTimeMs)
	if errors.Is(err, sql.ErrNoRows) {
		return a, store.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("reading app: %w", err)
	}
	return a, nil
}

// ListApps implements store.Apps.
func (s *Store) ListApps(ctx context.Context) ([]store.App, error) {
	rows, err := s.readQuery(ctx, `SELECT app_key, master_secret, name, ctime FROM apps ORDER BY ctime, app_key`)
	if err != nil {
		return nil, fmt.Errorf("listing apps: %w", err)
	}
	defer rows.Close()
	var out []store.App
	for rows.Next() {
		var a store.App
		if err := rows.Scan(&a.AppKey, &a.MasterSecret, &a.Name, &a.CTimeMs); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func encodeExtras(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func decodeExtras(s string) map[string]string {
	if s == "" {
		return nil
	}
	var m map[string]string
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

// CreateUser implements store.Users.
func (s *Store) CreateUser(ctx context.Context, appKey string, u store.User) (jmsg.UserInfo, error) {
	now := time.Now().UnixMilli()
	info := u.UserInfo
	info.CTime, info.MTime = now, now
	res, err := s.w.ExecContext(ctx, `INSERT INTO users (app_key, username, password, nickname, avatar, gender, birthday,
		signature, region, address, extras, ctime, mtime, admin, disabled) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		appKey, info.Username, u.PasswordHash, info.Nickname, info.Avatar, info.Gender, info.Birthday,
		info.Signature, info.Region, info.Address, encodeExtras(info.Extras), now, now, u.Admin, u.Disabled)
	if isConstraint(err) {
		return info, store.ErrExists
	}
	if err != nil {
		return info, fmt.Errorf("creating user: %w", err)
	}
	info.UID, err = res.LastInsertId()
	return info, err
}

const userCols = `uid, username, password, nickname, avatar, gender, birthday, signature, region, address, extras, ctime, mtime, admin, disabled`

func scanUser(sc interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var extras string
	err := sc.Scan(&u.UID, &u.Username, &u.PasswordHash, &u.Nickname, &u.Avatar, &u.Gender, &u.Birthday,
		&u.Signature, &u.Region, &u.Address, &extras, &u.CTime, &u.MTime, &u.Admin, &u.Disabled)
	u.Extras = decodeExtras(extras)
	return u, err
}

// UserByName implements store.Users.
func (s *Store) UserByName(ctx context.Context, appKey, username string) (store.User, error) {
	u, err := scanUser(s.readRow(ctx, `SELECT `+userCols+` FROM users WHERE app_key = ? AND username = ?`, appKey, username))
	if errors.Is(err, sql.ErrNoRows) {
		return u, store.ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("reading user: %w", err)
	}
	return u, nil
}

// ListUsers implements store.Users.
func (s *Store) ListUsers(ctx context.Context, appKey string, admins bool, start, count int) ([]store.User, int, error) {
	var total int
	if err := s.readRow(ctx, `SELECT count(*) FROM users WHERE app_key = ? AND admin = ? AND username NOT LIKE '~deleted~%'`, appKey, admins).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting users: %w", err)
	}
	rows, err := s.readQuery(ctx, `SELECT `+userCols+` FROM users WHERE app_key = ? AND admin = ? AND username NOT LIKE '~deleted~%'
		ORDER BY uid LIMIT ? OFFSET ?`,
		appKey, admins, max(count, 0), max(start, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("listing users: %w", err)
	}
	defer rows.Close()
	var out []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
	}
	return out, total, rows.Err()
}

// DeleteUser implements store.Users. The row keeps its uid under the name
// "~deleted~<uid>", which no username can be.
func (s *Store) DeleteUser(ctx context.Context, appKey string, uid int64) error {
	return s.inTx(ctx, func(tx ptx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET username = '~deleted~' || uid, disabled = 1, password = x''
			WHERE app_key = ? AND uid = ? AND username NOT LIKE '~deleted~%'`, appKey, uid)
		if err != nil {
			return fmt.Errorf("deleting user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE uid = ?`, uid); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM devices WHERE uid = ?`, uid)
		return err
	})
}

// SetDisabled implements store.Users.
func (s *Store) SetDisabled(ctx context.Context, appKey string, uid int64, disabled bool) error {
	res, err := s.w.ExecContext(ctx, `UPDATE users SET disabled = ? WHERE app_key = ? AND uid = ?`, disabled, appKey, uid)
	if err != nil {
		return fmt.Errorf("disabling user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// UsersByID implements store.Users.
func (s *Store) UsersByID(ctx context.Context, appKey string, uids []int64) (map[int64]jmsg.UserInfo, error) {
	out := make(map[int64]jmsg.UserInfo, len(uids))
	for len(uids) > 0 {
		n := min(len(uids), 500)
		args := []any{appKey}
		for _, id := range uids[:n] {
			args = append(args, id)
		}
		q := `SELECT ` + userCols + ` FROM users WHERE app_key = ? AND uid IN (?` + strings.Repeat(",?", n-1) + `)`
		rows, err := s.readQuery(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("reading users: %w", err)
		}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[u.UID] = u.UserInfo
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		uids = uids[n:]
	}
	return out, nil
}

// UpdateProfile implements store.Users.
func (s *Store) UpdateProfile(ctx context.Context, appKey string, uid int64, info jmsg.UserInfo) (jmsg.UserInfo, error) {
	now := time.Now().UnixMilli()
	res, err := s.w.ExecContext(ctx, `UPDATE users SET nickname=?, avatar=?, gender=?, birthday=?, signature=?, region=?,
		address=?, extras=?, mtime=? WHERE app_key = ? AND uid = ?`,
		info.Nickname, info.Avatar, info.Gender, info.Birthday, info.Signature, info.Region, info.Address,
		encodeExtras(info.Extras), now, appKey, uid)
	if err != nil {
		return info, fmt.Errorf("updating user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return info, store.ErrNotFound
	}
	u, err := scanUser(s.w.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE app_key = ? AND uid = ?`, appKey, uid))
	return u.UserInfo, err
}

// SetPassword implements store.Users.
func (s *Store) SetPassword(ctx context.Context, appKey string, uid int64, hash []byte) error {
	return s.inTx(ctx, func(tx ptx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password = ? WHERE app_key = ? AND uid = ?`, hash, appKey, uid)
		if err != nil {
			return fmt.Errorf("setting password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE uid = ?`, uid); err != nil {
			return fmt.Errorf("revoking tokens: %w", err)
		}
		return nil
	})
}

// TouchDevices implements store.Users.
func (s *Store) TouchDevices(ctx context.Context, appKey string, logins []store.DeviceLogin) error {
	err := s.inTx(ctx, func(tx ptx) error {
		for _, l := range logins {
			if _, err := tx.ExecContext(ctx, `INSERT INTO devices (uid, platform, mtime)
				SELECT uid, ?, ? FROM users WHERE app_key = ? AND uid = ?
				ON CONFLICT (uid, platform) DO UPDATE SET mtime = excluded.mtime`, l.Platform, l.MTimeMs, appKey, l.UID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording devices: %w", err)
	}
	return nil
}

// Devices implements store.Users.
func (s *Store) Devices(ctx context.Context, appKey string, uid int64) ([]store.Device, error) {
	rows, err := s.readQuery(ctx, `SELECT d.platform, d.mtime FROM devices d JOIN users u ON u.uid = d.uid
		WHERE u.app_key = ? AND d.uid = ? ORDER BY d.platform`, appKey, uid)
	if err != nil {
		return nil, fmt.Errorf("reading devices: %w", err)
	}
	defer rows.Close()
	var out []store.Device
	for rows.Next() {
		var d store.Device
		if err := rows.Scan(&d.Platform, &d.MTimeMs); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// PutToken implements store.Users.
func (s *Store) PutToken(ctx context.Context, appKey string, uid int64, tokenHash []byte, expiresMs int64) error {
	res, err := s.w.ExecContext(ctx, `INSERT INTO tokens (hash, uid, expires)
		SELECT ?, uid, ? FROM users WHERE app_key = ? AND uid = ?`, tokenHash, expiresMs, appKey, uid)
	if err != nil {
		return fmt.Errorf("storing token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// HasTokens implements store.Users.
func (s *Store) HasTokens(ctx context.Context, appKey string, uid int64, nowMs int64) (bool, error) {
	var ok bool
	err := s.readRow(ctx, `SELECT EXISTS (SELECT 1 FROM tokens t JOIN users u ON u.uid = t.uid
		WHERE t.uid = ? AND u.app_key = ? AND t.expires > ?)`, uid, appKey, nowMs).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("reading tokens: %w", err)
	}
	return ok, nil
}

// TokenUser implements store.Users.
func (s *Store) TokenUser(ctx context.Context, appKey string, tokenHash []byte, nowMs int64) (int64, error) {
	var uid int64
	err := s.readRow(ctx, `SELECT t.uid FROM tokens t JOIN users u ON u.uid = t.uid
		WHERE t.hash = ? AND u.app_key = ? AND t.expires > ?`, tokenHash, appKey, nowMs).Scan(&uid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("reading token: %w", err)
	}
	return uid, nil
}

// DeleteTokens implements store.Users.
func (s *Store) DeleteTokens(ctx context.Context, appKey string, uid int64, tokenHash []byte) error {
	q := `DELETE FROM tokens WHERE uid = (SELECT uid FROM users WHERE app_key = ? AND uid = ?)`
	args := []any{appKey, uid}
	if tokenHash != nil {
		q += ` AND hash = ?`
		args = append(args, tokenHash)
	}
	if _, err := s.w.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("deleting tokens: %w", err)
	}
	return nil
}
