package rest

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/store"
)

// Sensitive words (rest-v1.md §11). Changes go through the engine, which
// keeps each app's list in memory for the send path. Every refusal is
// 899003: a word that is empty or longer than 10 characters, a list that
// would pass 100 words, an unknown old_word or word, a new_word listed
// already.

func (a *API) wordRoutes() []route {
	return []route{
		{method: "POST", path: "/v1/sensitiveword", fn: a.addWords},
		{method: "PUT", path: "/v1/sensitiveword", fn: a.replaceWord},
		{method: "DELETE", path: "/v1/sensitiveword", fn: a.deleteWord},
		{method: "GET", path: "/v1/sensitiveword", fn: a.listWords},
		{method: "PUT", path: "/v1/sensitiveword/status", fn: a.setWordStatus},
		{method: "GET", path: "/v1/sensitiveword/status", fn: a.wordStatus},
	}
}

// wordsMaxPage is the largest count of GET /v1/sensitiveword.
const wordsMaxPage = 2000

// wordError maps the engine's refusals of a word change to 899003.
func wordError(err error) error {
	if server.IsParamInvalid(err) || errors.Is(err, store.ErrFull) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) {
		return badParam()
	}
	return err
}

// addWords is POST /v1/sensitiveword: ["word", …]; 204.
func (a *API) addWords(r *http.Request, app store.App) (int, any, error) {
	var words []string
	if err := decode(r, &words); err != nil || len(words) == 0 {
		return 0, nil, badParam()
	}
	if err := a.eng.AddSensitiveWords(r.Context(), app.AppKey, words); err != nil {
		return 0, nil, wordError(err)
	}
	return http.StatusNoContent, nil, nil
}

// replaceWord is PUT /v1/sensitiveword: {"new_word", "old_word"}; 204.
func (a *API) replaceWord(r *http.Request, app store.App) (int, any, error) {
	var in struct {
		New *string `json:"new_word"`
		Old *string `json:"old_word"`
	}
	if err := decode(r, &in); err != nil || in.New == nil || in.Old == nil {
		return 0, nil, badParam()
	}
	if err := a.eng.ReplaceSensitiveWord(r.Context(), app.AppKey, *in.Old, *in.New); err != nil {
		return 0, nil, wordError(err)
	}
	return http.StatusNoContent, nil, nil
}

// deleteWord is DELETE /v1/sensitiveword: {"word"}; 204.
func (a *API) deleteWord(r *http.Request, app store.App) (int, any, error) {
	var in struct {
		Word *string `json:"word"`
	}
	if err := decode(r, &in); err != nil || in.Word == nil {
		return 0, nil, badParam()
	}
	if err := a.eng.DeleteSensitiveWord(r.Context(), app.AppKey, *in.Word); err != nil {
		return 0, nil, wordError(err)
	}
	return http.StatusNoContent, nil, nil
}

// listWords is GET /v1/sensitiveword?start=&count=: a page of the words
// in insert order with their insert time.
func (a *API) listWords(r *http.Request, app store.App) (int, any, error) {
	start, count, err := page(r, wordsMaxPage)
	if err != nil {
		return 0, nil, err
	}
	words, total, err := a.st.ListWords(r.Context(), app.AppKey, start, count)
	if err != nil {
		return 0, nil, err
	}
	items := make([]map[string]any, len(words))
	for i, w := range words {
		items[i] = map[string]any{"name": w.Word, "itime": a.formatMs(w.CTimeMs)}
	}
	return http.StatusOK, map[string]any{"start": start, "count": len(items), "total": total, "words": items}, nil
}

// setWordStatus is PUT /v1/sensitiveword/status?status=0|1 (or a body
// {"status": 0|1}); 204.
func (a *API) setWordStatus(r *http.Request, app store.App) (int, any, error) {
	var status int64
	if q := r.URL.Query(); q.Has("status") {
		v, err := strconv.ParseInt(q.Get("status"), 10, 64)
		if err != nil {
			return 0, nil, badParam()
		}
		status = v
	} else {
		var in struct {
			Status *flexInt `json:"status"`
		}
		if err := decode(r, &in); err != nil || in.Status == nil {
			return 0, nil, badParam()
		}
		status = int64(*in.Status)
	}
	if status != 0 && status != 1 {
		return 0, nil, badParam()
	}
	if err := a.eng.SetSensitiveWordFilter(r.Context(), app.AppKey, status == 1); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// wordStatus is GET /v1/sensitiveword/status: {"status": 1} while the
// filter is on (the default), 0 when off.
func (a *API) wordStatus(r *http.Request, app store.App) (int, any, error) {
	on, _, err := a.st.WordFilter(r.Context(), app.AppKey)
	if err != nil {
		return 0, nil, err
	}
	status := 0
	if on {
		status = 1
	}
	return http.StatusOK, map[string]any{"status": status}, nil
}
