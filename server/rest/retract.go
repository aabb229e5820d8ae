package rest

import (
	"net/http"
	"strconv"

	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

// retractRoutes is message retraction (rest-v1.md §6.2).
func (a *API) retractRoutes() []route {
	return []route{
		{method: "POST", path: "/v1/messages/{username}/{msgid}/retract", fn: a.retract},
	}
}

// retract is POST /v1/messages/{username}/{msgid}/retract: the sender
// retracts one of their messages through the engine's retract op, so that
// the conversation's online members get event 55; 204. Errors: 899003 a
// malformed username or msgid, 899002 no such user, and with status 403
// 855003 no such message, 855002 another user's (or a group event), 855004
// retracted already, 855001 older than the engine's RetractWindow.
func (a *API) retract(r *http.Request, app store.App) (int, any, error) {
	u, err := a.pathUser(r, app)
	if err != nil {
		return 0, nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("msgid"), 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, badParam()
	}
	if err := a.do(r.Context(), app, u.Username, wire.OpRetract, wire.RetractReq{MsgID: id}, nil, server.ActOptions{}); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
