package localstore

import (
	"context"
	"database/sql"
	"errors"
)

// UpdateQueuedContent replaces the stored document of a message waiting in
// the outbox and sets its status (Sending or SendUploadSucceed): a media
// message whose upload has progressed. It reports false, changing
// nothing, when the message is no longer waiting (withdrawn).
func (d *DB) UpdateQueuedContent(ctx context.Context, id int64, content string, status int) (bool, error) {
	var n int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET content = ?, status = ?, error_code = 0
			WHERE id = ? AND status IN (?, ?)`, content, status, id, statusSending, statusUploaded)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n == 1, err
}

// SetMediaPath records the local copy of a message's media (relative to
// Dir; ” for none). It reports false, recording nothing, when the
// message no longer exists or was retracted (its content is a prompt).
func (d *DB) SetMediaPath(ctx context.Context, id int64, path string) (bool, error) {
	return d.setPath(ctx, "media_path", id, path)
}

// SetThumbPath records the local copy of a message's thumbnail (relative
// to Dir; ” for none), as SetMediaPath.
func (d *DB) SetThumbPath(ctx context.Context, id int64, path string) (bool, error) {
	return d.setPath(ctx, "thumb_path", id, path)
}

// setPath sets column, media_path or thumb_path.
func (d *DB) setPath(ctx context.Context, column string, id int64, path string) (bool, error) {
	var n int64
	err := d.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET `+column+` = ? WHERE id = ? AND content_type != ?`, path, id, contentPrompt)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n == 1, err
}

// Upload is a resumable upload under way: one part ("media" or "thumb")
// of a message.
type Upload struct {
	MsgID     int64
	Part      string
	UploadID  string
	UploadURL string // the upload endpoint the id belongs to
	Size      int64
}

// Upload returns the resumable upload of a message's part; ErrNotFound if
// none is recorded.
func (d *DB) Upload(ctx context.Context, msgID int64, part string) (Upload, error) {
	u := Upload{MsgID: msgID, Part: part}
	err := d.db.QueryRowContext(ctx, `SELECT upload_id, upload_url, size FROM media_uploads WHERE msg_id = ? AND part = ?`,
		msgID, part).Scan(&u.UploadID, &u.UploadURL, &u.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// SetUpload records a resumable upload, replacing the part's earlier one.
func (d *DB) SetUpload(ctx context.Context, u Upload) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO media_uploads (msg_id, part, upload_id, upload_url, size) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (msg_id, part) DO UPDATE SET upload_id = excluded.upload_id, upload_url = excluded.upload_url,
			size = excluded.size`, u.MsgID, u.Part, u.UploadID, u.UploadURL, u.Size)
		return err
	})
}

// DeleteUpload forgets the resumable upload of a message's part.
func (d *DB) DeleteUpload(ctx context.Context, msgID int64, part string) error {
	return d.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM media_uploads WHERE msg_id = ? AND part = ?`, msgID, part)
		return err
	})
}
