package server

import (
	"github.com/jmsg-im/jmsg/wire"
)

// handler serves one op. It returns the response data or an error (a
// *jmsg.Error travels to the client with its code; any other error is
// logged and answered with 800009), or errAsync when it responds itself.
type handler struct {
	login bool // the op needs a logged-in session
	fn    func(c *conn, f *wire.Frame) (any, error)
}

// handlers maps each op of the protocol to its handler.
var handlers = map[string]handler{
	wire.OpInit:           {fn: handleInit},
	wire.OpPing:           {fn: handlePing},
	wire.OpRegister:       {fn: handleRegister},
	wire.OpLogin:          {fn: handleLogin},
	wire.OpLogout:         {login: true, fn: handleLogout},
	wire.OpMyInfo:         {login: true, fn: handleMyInfo},
	wire.OpUserInfo:       {login: true, fn: handleUserInfo},
	wire.OpUpdateMyInfo:   {login: true, fn: handleUpdateMyInfo},
	wire.OpUpdatePassword: {login: true, fn: handleUpdatePassword},
	wire.OpSend:           {login: true, fn: handleSend},
	wire.OpAck:            {login: true, fn: handleAck},
	wire.OpSync:           {login: true, fn: handleSync},
	wire.OpHistory:        {login: true, fn: handleHistory},
	wire.OpRead:           {login: true, fn: handleRead},
	wire.OpGetUploadToken: {login: true, fn: handleGetUploadToken},
	wire.OpGetResource:    {login: true, fn: handleGetResource},
	wire.OpRetract:        {login: true, fn: handleRetract},

	wire.OpCreateGroup:        {login: true, fn: handleCreateGroup},
	wire.OpGroupInfo:          {login: true, fn: handleGroupInfo},
	wire.OpUpdateGroupInfo:    {login: true, fn: handleUpdateGroupInfo},
	wire.OpDissolveGroup:      {login: true, fn: handleDissolveGroup},
	wire.OpAddGroupMembers:    {login: true, fn: handleAddGroupMembers},
	wire.OpDelGroupMembers:    {login: true, fn: handleDelGroupMembers},
	wire.OpExitGroup:          {login: true, fn: handleExitGroup},
	wire.OpGroupMembers:       {login: true, fn: handleGroupMembers},
	wire.OpMyGroups:           {login: true, fn: handleMyGroups},
	wire.OpTransferGroupOwner: {login: true, fn: handleTransferOwner},
	wire.OpAddGroupAdmins:     {login: true, fn: handleAddGroupAdmins},
	wire.OpDelGroupAdmins:     {login: true, fn: handleDelGroupAdmins},
	wire.OpSilenceMembers:     {login: true, fn: handleSilence},
	wire.OpUnsilenceMembers:   {login: true, fn: handleUnsilence},
	wire.OpApplyJoinGroup:     {login: true, fn: handleApplyJoin},
	wire.OpProcessApplication: {login: true, fn: handleProcessApplication},
	wire.OpPublicGroups:       {login: true, fn: handlePublicGroups},
}
