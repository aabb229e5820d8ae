package rest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/store"
	"github.com/jmsg-im/jmsg/wire"
)

func (a *API) messageRoutes() []route {
	return []route{
		{method: "POST", path: "/v1/messages", fn: a.sendMessage},
	}
}

// sendIn is the body of POST /v1/messages.
type sendIn struct {
	Version        *flexInt        `json:"version"`
	TargetType     *string         `json:"target_type"`
	TargetID       *string         `json:"target_id"`
	TargetAppKey   string          `json:"target_appkey"`
	TargetName     string          `json:"target_name"`
	FromType       *string         `json:"from_type"`
	FromID         *string         `json:"from_id"`
	FromName       string          `json:"from_name"`
	MsgType        *string         `json:"msg_type"`
	MsgBody        json.RawMessage `json:"msg_body"`
	NoOffline      *flexBool       `json:"no_offline"`
	NoNotification *flexBool       `json:"no_notification"`
	Notification   json.RawMessage `json:"notification"`
}

// sendMessage is POST /v1/messages: a message from an admin account
// (from_type "admin") or a user (from_type "user") to a user or a group,
// delivered like any client's; 201 {msg_id, msg_ctime}.
func (a *API) sendMessage(r *http.Request, app store.App) (int, any, error) {
	var in sendIn
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Version == nil || *in.Version != 1 || in.TargetType == nil || in.TargetID == nil || in.FromType == nil ||
		in.FromID == nil || in.MsgType == nil || !jmsg.IsJSONObject(in.MsgBody) || len(in.MsgBody) > jmsg.MessageMaxBytes {
		return 0, nil, badParam()
	}
	if *in.TargetType != "single" && *in.TargetType != "group" {
		return 0, nil, badParam() // chat rooms are not served
	}
	if in.TargetAppKey != "" && in.TargetAppKey != app.AppKey {
		return 0, nil, fail(jmsg.RestShouldUseCrossAppAPI)
	}
	if *in.FromType != "admin" && *in.FromType != "user" {
		return 0, nil, badParam()
	}
	from, err := a.user(r, app, *in.FromID)
	if err != nil {
		return 0, nil, err
	}
	// As an admin: only admin accounts (899016), to any user or group. As
	// a user: the message is that user's, under a client's rules (group
	// membership, mutes, blacklists).
	asAdmin := *in.FromType == "admin"
	if asAdmin && !from.Admin {
		return 0, nil, fail(jmsg.RestNoAuthorityToSend)
	}
	body := in.MsgBody
	if *in.MsgType == "location" {
		body = locationLabel(body)
	}
	if !jmsg.CheckBody(*in.MsgType, body) {
		return 0, nil, badParam()
	}
	doc := jmsg.Doc{Version: 1, TargetType: *in.TargetType, TargetID: *in.TargetID, TargetName: in.TargetName,
		FromName: in.FromName, CreateTime: time.Now().Unix(), MsgType: *in.MsgType, MsgBody: body}
	var resp wire.SendResp
	if err := a.do(r.Context(), app, from.Username, wire.OpSend, wire.SendReq{Content: doc}, &resp, server.ActOptions{AsAdmin: asAdmin}); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"msg_id": resp.MsgID, "msg_ctime": resp.CTimeMs}, nil
}

// locationLabel renames the protocol document's misspelt "lable" to
// "label" in a location body that has no "label".
func locationLabel(body json.RawMessage) json.RawMessage {
	if !bytes.Contains(body, []byte(`"lable"`)) {
		return body
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	if _, ok := m["label"]; !ok {
		m["label"] = m["lable"]
	}
	delete(m, "lable")
	b, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return b
}
