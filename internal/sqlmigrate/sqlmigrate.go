// Package sqlmigrate applies numbered schema migrations to a SQLite
// database, for jmsgd's store and the SDK's local database alike.
package sqlmigrate

import (
	"context"
	"database/sql"
	"fmt"
)

// Apply brings db to the newest schema: steps[i] moves it from version i to
// i+1 (PRAGMA user_version), one transaction per step. A database written
// by a newer schema than len(steps) is refused; who names the program that
// refuses it.
func Apply(ctx context.Context, db *sql.DB, steps []string, who string) error {
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if v > len(steps) {
		return fmt.Errorf("schema version %d is newer than this %s's (%d)", v, who, len(steps))
	}
	for ; v < len(steps); v++ {
		if err := step(ctx, db, steps[v], v+1); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	return nil
}

func step(ctx context.Context, db *sql.DB, stmts string, to int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, stmts); err != nil {
		tx.Rollback()
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, to)); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
