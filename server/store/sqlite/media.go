package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

const mediaCols = `media_id, kind, uploader_uid, crc32, fsize, format, hash, width, height, fname,
	content_type, blob_key, thumb_key, thumb_crc32, thumb_size, ctime`

func scanMedia(row interface{ Scan(...any) error }) (store.MediaRecord, error) {
	var m store.MediaRecord
	var kind string
	err := row.Scan(&m.MediaID, &kind, &m.UploaderUID, &m.CRC32, &m.FSize, &m.Format, &m.Hash, &m.Width, &m.Height,
		&m.FName, &m.ContentType, &m.BlobKey, &m.ThumbKey, &m.ThumbCRC32, &m.ThumbSize, &m.CTimeMs)
	if errors.Is(err, sql.ErrNoRows) {
		return m, store.ErrNotFound
	}
	if err != nil {
		return m, fmt.Errorf("reading media: %w", err)
	}
	m.Kind = jmsg.MediaKind(kind)
	return m, nil
}

// PutMedia implements store.Media.
func (s *Store) PutMedia(ctx context.Context, appKey string, m store.MediaRecord) error {
	err := s.inTx(ctx, func(tx ptx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO media (app_key, `+mediaCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			appKey, m.MediaID, string(m.Kind), m.UploaderUID, m.CRC32, m.FSize, m.Format, m.Hash, m.Width, m.Height,
			m.FName, m.ContentType, m.BlobKey, m.ThumbKey, m.ThumbCRC32, m.ThumbSize, m.CTimeMs)
		return err
	})
	if isConstraint(err) {
		return store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("recording media: %w", err)
	}
	return nil
}

// Media implements store.Media.
func (s *Store) Media(ctx context.Context, appKey, mediaID string) (store.MediaRecord, error) {
	return scanMedia(s.readRow(ctx, `SELECT `+mediaCols+` FROM media WHERE app_key = ? AND media_id = ?`, appKey, mediaID))
}

// MediaByHash implements store.Media.
func (s *Store) MediaByHash(ctx context.Context, appKey, hash string) (store.MediaRecord, error) {
	return scanMedia(s.readRow(ctx, `SELECT `+mediaCols+` FROM media WHERE app_key = ? AND hash = ?
		ORDER BY ctime LIMIT 1`, appKey, hash))
}

// CanReadMedia implements store.Media.
func (s *Store) CanReadMedia(ctx context.Context, appKey, mediaID string, uid int64) (bool, error) {
	var ok bool
	err := s.readRow(ctx, `SELECT EXISTS (SELECT 1 FROM media WHERE app_key = ? AND media_id = ? AND uploader_uid = ?)
		OR EXISTS (SELECT 1 FROM message_media mm
			JOIN messages msg ON msg.msg_id = mm.msg_id
			JOIN conv_members cm ON cm.conv_id = msg.conv_id AND cm.uid = ?
			JOIN conversations c ON c.conv_id = msg.conv_id AND c.app_key = ?
			WHERE mm.media_id = ? AND msg.seq > cm.join_seq AND (cm.left_seq = 0 OR msg.seq <= cm.left_seq))
		OR EXISTS (SELECT 1 FROM users WHERE app_key = ? AND avatar = ? AND avatar != '')
		OR EXISTS (SELECT 1 FROM groups WHERE app_key = ? AND avatar = ? AND avatar != '')`,
		appKey, mediaID, uid, uid, appKey, mediaID, appKey, mediaID, appKey, mediaID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("checking media permission: %w", err)
	}
	return ok, nil
}

// Secret implements store.Media.
func (s *Store) Secret(ctx context.Context, name string, gen func() []byte) ([]byte, error) {
	var v []byte
	err := s.readRow(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("reading secret: %w", err)
	}
	err = s.inTx(ctx, func(tx ptx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING`, name, gen())
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&v)
	})
	if err != nil {
		return nil, fmt.Errorf("creating secret: %w", err)
	}
	return v, nil
}
