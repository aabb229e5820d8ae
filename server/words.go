package server

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server/store"
)

// Limits of an app's sensitive words (rest-v1.md §11).
const (
	SensitiveWordsMax   = 100 // words per app
	SensitiveWordMaxLen = 10  // characters (runes) per word
)

// checkWords refuses a message whose text holds one of the app's
// sensitive words while the filter is on (803009, naming the word). Only
// the text of text messages is matched, as a case-insensitive substring;
// extras and other types pass. It reads the app's words from memory.
func (c *conn) checkWords(msgType string, body []byte) error {
	if msgType != "text" {
		return nil
	}
	wl, err := c.s.words.get(c.ctx, c.appKey)
	if err != nil {
		return err
	}
	if !wl.on || len(wl.words) == 0 {
		return nil
	}
	var t jmsg.TextBody
	if err := json.Unmarshal(body, &t); err != nil {
		return nil // CheckBody has passed it; nothing to match
	}
	if w := wl.match(t.Text); w != "" {
		return jmsg.WithMessage(jmsg.TcpContentIsIllegal, "the message contains sensitive word: "+w)
	}
	return nil
}

// wordList is an app's filter as the send path sees it. It is never
// changed once built: a change of the words makes a new one.
type wordList struct {
	on     bool
	words  []string // as listed, oldest first
	folded []string // strings.ToLower of words
}

// match returns the first listed word that text contains, without regard
// to case, or "".
func (wl *wordList) match(text string) string {
	lt := strings.ToLower(text)
	for i, f := range wl.folded {
		if strings.Contains(lt, f) {
			return wl.words[i]
		}
	}
	return ""
}

// wordCache holds each app's wordList, loaded from the store on the first
// message of the app and dropped by every change the engine makes, so
// that a send reads no database. The engine's own operations are the only
// writers: another jmsgd sharing the store keeps its list until it
// restarts or changes the words itself. Safe for concurrent use.
type wordCache struct {
	st store.Words

	mu   sync.RWMutex // guards apps and gens
	apps map[string]*wordList
	gens map[string]uint64 // per app, counts the changes, so that a load racing a change is not kept
}

func newWordCache(st store.Words) *wordCache {
	return &wordCache{st: st, apps: map[string]*wordList{}, gens: map[string]uint64{}}
}

// get returns appKey's list, loading it if it is not cached.
func (wc *wordCache) get(ctx context.Context, appKey string) (*wordList, error) {
	wc.mu.RLock()
	wl, ok := wc.apps[appKey]
	gen := wc.gens[appKey]
	wc.mu.RUnlock()
	if ok {
		return wl, nil
	}
	on, words, err := wc.st.WordFilter(ctx, appKey)
	if err != nil {
		return nil, err
	}
	wl = &wordList{on: on, words: words, folded: make([]string, len(words))}
	for i, w := range words {
		wl.folded[i] = strings.ToLower(w)
	}
	wc.mu.Lock()
	if wc.gens[appKey] == gen {
		wc.apps[appKey] = wl
	}
	wc.mu.Unlock()
	return wl, nil
}

// changed drops appKey's list after a change of its words or switch.
func (wc *wordCache) changed(appKey string) {
	wc.mu.Lock()
	delete(wc.apps, appKey)
	wc.gens[appKey]++
	wc.mu.Unlock()
}

// validWord reports whether w may be listed: 1 to 10 characters of valid
// UTF-8, none of them a control character.
func validWord(w string) bool {
	if w == "" || !utf8.ValidString(w) || utf8.RuneCountInString(w) > SensitiveWordMaxLen {
		return false
	}
	for _, r := range w {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// The sensitive-word operations of app back-ends (the REST API). They are
// the only writers of the words: each drops the app's cached list, so
// that the next message is checked against the change. Errors: a word
// breaking the rule of validWord is 898003 (IsParamInvalid); the store's
// ErrFull, ErrNotFound and ErrExists come back as they are.

// AddSensitiveWords adds words to appKey's list (words listed already are
// kept as they are); store.ErrFull, with nothing added, when the list
// would pass SensitiveWordsMax.
func (s *Server) AddSensitiveWords(ctx context.Context, appKey string, words []string) error {
	for _, w := range words {
		if !validWord(w) {
			return paramInvalid("word")
		}
	}
	defer s.words.changed(appKey)
	return s.store.AddWords(ctx, appKey, words, time.Now().UnixMilli(), SensitiveWordsMax)
}

// ReplaceSensitiveWord replaces old with word: store.ErrNotFound if old is
// not listed, store.ErrExists if word is, as another word.
func (s *Server) ReplaceSensitiveWord(ctx context.Context, appKey, old, word string) error {
	if !validWord(word) {
		return paramInvalid("new_word")
	}
	defer s.words.changed(appKey)
	return s.store.ReplaceWord(ctx, appKey, old, word, time.Now().UnixMilli())
}

// DeleteSensitiveWord removes word: store.ErrNotFound if it is not listed.
func (s *Server) DeleteSensitiveWord(ctx context.Context, appKey, word string) error {
	defer s.words.changed(appKey)
	return s.store.DeleteWord(ctx, appKey, word)
}

// SetSensitiveWordFilter turns appKey's filter on or off.
func (s *Server) SetSensitiveWordFilter(ctx context.Context, appKey string, on bool) error {
	defer s.words.changed(appKey)
	return s.store.SetWordFilter(ctx, appKey, on)
}
