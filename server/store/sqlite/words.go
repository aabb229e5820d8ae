package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmsg-im/jmsg/server/store"
)

// fold is the form words are compared in (store.Words).
func fold(word string) string { return strings.ToLower(word) }

// AddWords implements store.Words.
func (s *Store) AddWords(ctx context.Context, appKey string, words []string, nowMs int64, max int) error {
	return s.inTx(ctx, func(tx ptx) error {
		for _, w := range words {
			_, err := tx.ExecContext(ctx, `INSERT INTO sensitive_words (app_key, folded, word, itime) VALUES (?, ?, ?, ?)
				ON CONFLICT DO NOTHING`, appKey, fold(w), w, nowMs)
			if err != nil {
				return fmt.Errorf("adding sensitive word: %w", err)
			}
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sensitive_words WHERE app_key = ?`, appKey).Scan(&n); err != nil {
			return fmt.Errorf("counting sensitive words: %w", err)
		}
		if n > max {
			return store.ErrFull
		}
		return nil
	})
}

// ReplaceWord implements store.Words.
func (s *Store) ReplaceWord(ctx context.Context, appKey, old, word string, nowMs int64) error {
	return s.inTx(ctx, func(tx ptx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sensitive_words WHERE app_key = ? AND folded = ?`, appKey, fold(old))
		if err != nil {
			return fmt.Errorf("removing sensitive word: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sensitive_words (app_key, folded, word, itime) VALUES (?, ?, ?, ?)`,
			appKey, fold(word), word, nowMs)
		if isConstraint(err) {
			return store.ErrExists
		}
		if err != nil {
			return fmt.Errorf("adding sensitive word: %w", err)
		}
		return nil
	})
}

// DeleteWord implements store.Words.
func (s *Store) DeleteWord(ctx context.Context, appKey, word string) error {
	return s.inTx(ctx, func(tx ptx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sensitive_words WHERE app_key = ? AND folded = ?`, appKey, fold(word))
		if err != nil {
			return fmt.Errorf("removing sensitive word: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// ListWords implements store.Words.
func (s *Store) ListWords(ctx context.Context, appKey string, start, count int) ([]store.SensitiveWord, int, error) {
	const qCount = `SELECT count(*) FROM sensitive_words WHERE app_key = ?`
	const qPage = `SELECT word, itime FROM sensitive_words WHERE app_key = ? ORDER BY itime, rowid LIMIT ? OFFSET ?`
	tx, err := s.beginRead(ctx, qCount, qPage)
	if err != nil {
		return nil, 0, fmt.Errorf("listing sensitive words: %w", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, qCount, appKey).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("counting sensitive words: %w", err)
	}
	rows, err := tx.QueryContext(ctx, qPage, appKey, max(count, 0), max(start, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("listing sensitive words: %w", err)
	}
	defer rows.Close()
	out := []store.SensitiveWord{}
	for rows.Next() {
		var w store.SensitiveWord
		if err := rows.Scan(&w.Word, &w.CTimeMs); err != nil {
			return nil, 0, err
		}
		out = append(out, w)
	}
	return out, total, rows.Err()
}

// WordFilter implements store.Words.
func (s *Store) WordFilter(ctx context.Context, appKey string) (bool, []string, error) {
	const qOn = `SELECT enabled FROM word_filters WHERE app_key = ?`
	const qWords = `SELECT word FROM sensitive_words WHERE app_key = ? ORDER BY itime, rowid`
	tx, err := s.beginRead(ctx, qOn, qWords)
	if err != nil {
		return false, nil, fmt.Errorf("reading the word filter: %w", err)
	}
	defer tx.Rollback()
	on := true
	if err := tx.QueryRowContext(ctx, qOn, appKey).Scan(&on); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, nil, fmt.Errorf("reading the word filter: %w", err)
	}
	rows, err := tx.QueryContext(ctx, qWords, appKey)
	if err != nil {
		return false, nil, fmt.Errorf("reading sensitive words: %w", err)
	}
	defer rows.Close()
	var words []string
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return false, nil, err
		}
		words = append(words, w)
	}
	return on, words, rows.Err()
}

// SetWordFilter implements store.Words.
func (s *Store) SetWordFilter(ctx context.Context, appKey string, on bool) error {
	return s.inTx(ctx, func(tx ptx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO word_filters (app_key, enabled) VALUES (?, ?)
			ON CONFLICT (app_key) DO UPDATE SET enabled = excluded.enabled`, appKey, on)
		if err != nil {
			return fmt.Errorf("setting the word filter: %w", err)
		}
		return nil
	})
}
