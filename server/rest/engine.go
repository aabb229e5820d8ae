package rest

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/server"
	"github.com/jmsg-im/jmsg/server/store"
)

// restCodes maps the client protocol's codes, which the engine answers
// with, to the REST API's. Codes not listed pass through with 403.
var restCodes = map[int]int{
	jmsg.ServerAddMemberNotRegistered:      jmsg.RestUserNotExist,
	jmsg.TcpUserNotRegistered:              jmsg.RestUserNotExist,
	jmsg.TcpTargetUserNotExist:             jmsg.RestUserNotExist,
	jmsg.TcpGroupMembersDuplicated:         jmsg.RestMemberRepeated,
	jmsg.ServerUserAlreadyInGroup:          jmsg.RestMemberRepeated,
	jmsg.ServerGroupMemberCountExceedLimit: jmsg.RestGroupMemberSpaceNotEnough,
	jmsg.ServerUserGroupCountExceedLimit:   jmsg.RestUserGroupsFull,
	jmsg.ServerGroupCountExceedLimit:       jmsg.RestUserGroupsFull,
	jmsg.ServerGroupNameInvalid:            jmsg.RestParameterInvalid,
	jmsg.ServerGroupNameTooLong:            jmsg.RestParameterInvalid,
	jmsg.ServerGroupDescTooLong:            jmsg.RestParameterInvalid,
	jmsg.ServerUpdateGroupNameTooLong:      jmsg.RestParameterInvalid,
	jmsg.ServerUpdateGroupDescTooLong:      jmsg.RestParameterInvalid,
	jmsg.ServerMaxMemberCountInvalid:       jmsg.RestParameterInvalid,
	jmsg.TcpGroupMembersEmpty:              jmsg.RestParameterInvalid,
	jmsg.HttpPrameterInvalid:               jmsg.RestParameterInvalid,
	jmsg.ServerInvalidRequest:              jmsg.RestParameterInvalid,
	jmsg.ServerMessageContentJSONError:     jmsg.RestParameterInvalid,
	jmsg.ServerMessageTooLong:              jmsg.RestParameterInvalid,
	jmsg.ServerGroupIDNotExist:             jmsg.RestGroupIDInvalid,
	jmsg.TcpTargetGroupNotExist:            jmsg.RestGroupIDInvalid,
	jmsg.ServerMemberNotInGroup:            jmsg.RestRemoveMemberNotInGroup,
	jmsg.ServerDelMemberNotRegistered:      jmsg.RestRemoveMemberNotInGroup,
	jmsg.ServerDelMemberListEmpty:          jmsg.RestParameterInvalid,
	jmsg.ServerMemberDeletedRepeatedly:     jmsg.RestParameterInvalid,
	jmsg.TcpServerInternalError:            jmsg.RestServerInternalError,
}

// do runs a client-protocol request as username through the engine
// (server.Server.Do) and decodes its response into out (nil to drop it),
// answering engine refusals with the REST API's codes.
func (a *API) do(ctx context.Context, app store.App, username, op string, req, out any, opt server.ActOptions) error {
	data, err := a.eng.Do(ctx, app.AppKey, username, op, req, opt)
	if err != nil {
		return engineErr(err, restCodes)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// engineErr answers an error of the engine with the REST API's code:
// store.ErrNotFound (the acting user) is 899002, a client-protocol code is
// mapped by codes or, when not listed, passes through with its status
// from statusOf; any other error passes (899000).
func engineErr(err error, codes map[int]int) error {
	if errors.Is(err, store.ErrNotFound) {
		return fail(jmsg.RestUserNotExist)
	}
	var je *jmsg.Error
	if !errors.As(err, &je) {
		return err
	}
	if rc, ok := codes[je.Code]; ok {
		return fail(rc)
	}
	return &apiError{status: statusOf(je.Code), code: je.Code, message: je.Message}
}
