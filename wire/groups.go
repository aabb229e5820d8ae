package wire

// Group requests (client → server). Sending to a group uses OpSend with
// target_type "group" and the group id, as a decimal string, in target_id.
const (
	OpCreateGroup        = "create_group"         // CreateGroupReq → GroupInfo
	OpGroupInfo          = "get_group_info"       // GroupReq → GroupInfo
	OpUpdateGroupInfo    = "update_group_info"    // UpdateGroupReq → GroupInfo
	OpDissolveGroup      = "dissolve_group"       // GroupReq → {}
	OpAddGroupMembers    = "add_group_members"    // GroupUsersReq → {}
	OpDelGroupMembers    = "del_group_members"    // GroupUsersReq → {}
	OpExitGroup          = "exit_group"           // GroupReq → {}
	OpGroupMembers       = "get_group_members"    // GroupReq → GroupMembersResp
	OpMyGroups           = "my_groups"            // {} → GroupListResp
	OpTransferGroupOwner = "transfer_group_owner" // GroupUsersReq with one username → {}
	OpAddGroupAdmins     = "add_group_admins"     // GroupUsersReq → {}
	OpDelGroupAdmins     = "del_group_admins"     // GroupUsersReq → {}
	OpSilenceMembers     = "group_silence"        // SilenceReq → {}
	OpUnsilenceMembers   = "group_unsilence"      // GroupUsersReq → {}
	OpApplyJoinGroup     = "apply_join_group"     // ApplyJoinReq → ApplyJoinResp
	OpProcessApplication = "process_application"  // ProcessApplicationReq → {}
	OpPublicGroups       = "public_groups"        // PublicGroupsReq → GroupListResp
)

// Group types.
const (
	GroupPrivate = 1
	GroupPublic  = 2
)

// Member roles, as JMessage numbers them (flag in member lists).
const (
	RoleOrdinary = 0
	RoleOwner    = 1
	RoleAdmin    = 2
)

// GroupInfo describes a group.
type GroupInfo struct {
	GID            int64  `json:"gid"`
	Name           string `json:"name"`
	Desc           string `json:"desc,omitempty"`
	Avatar         string `json:"avatar,omitempty"`
	Type           int    `json:"type"` // GroupPrivate or GroupPublic
	MaxMemberCount int    `json:"max_member_count"`
	MemberCount    int    `json:"member_count"`
	Owner          string `json:"owner"`
	ConvID         int64  `json:"conv_id"` // the group's conversation, for history
	CTimeMs        int64  `json:"ctime_ms"`
	MTimeMs        int64  `json:"mtime_ms"`
}

// CreateGroupReq creates a group owned by the caller. Members are added
// with the owner; MaxMemberCount 0 means the server's default (500).
type CreateGroupReq struct {
	Name           string   `json:"name"`
	Desc           string   `json:"desc,omitempty"`
	Avatar         string   `json:"avatar,omitempty"`
	Type           int      `json:"type,omitempty"` // default GroupPrivate
	MaxMemberCount int      `json:"max_member_count,omitempty"`
	Members        []string `json:"members,omitempty"`
}

// GroupReq names a group.
type GroupReq struct {
	GID int64 `json:"gid"`
}

// UpdateGroupReq changes the listed fields (name, desc, avatar) of a group.
type UpdateGroupReq struct {
	GID    int64    `json:"gid"`
	Fields []string `json:"fields"`
	Name   string   `json:"name,omitempty"`
	Desc   string   `json:"desc,omitempty"`
	Avatar string   `json:"avatar,omitempty"`
}

// GroupUsersReq names a group and users of it (at most 500).
type GroupUsersReq struct {
	GID       int64    `json:"gid"`
	Usernames []string `json:"usernames"`
	Reason    string   `json:"reason,omitempty"`
}

// SilenceReq mutes users of a group for DurationMs (300,000 to
// 31,536,000,000); muting again restarts the period.
type SilenceReq struct {
	GID        int64    `json:"gid"`
	Usernames  []string `json:"usernames"`
	DurationMs int64    `json:"duration_ms"`
}

// GroupMember is an entry of a member list.
type GroupMember struct {
	Username     string `json:"username"`
	Nickname     string `json:"nickname,omitempty"`
	Role         int    `json:"flag"` // RoleOrdinary, RoleOwner or RoleAdmin
	JoinTimeMs   int64  `json:"join_time_ms"`
	SilenceEndMs int64  `json:"silence_end_ms,omitempty"` // muted until, if in the future
}

// GroupMembersResp lists members, the owner first, then by join time.
type GroupMembersResp struct {
	Members []GroupMember `json:"members"`
}

// GroupListResp lists groups; Total counts every match (public_groups).
type GroupListResp struct {
	Groups []GroupInfo `json:"groups"`
	Total  int         `json:"total,omitempty"`
}

// ApplyJoinReq applies to join a public group.
type ApplyJoinReq struct {
	GID    int64  `json:"gid"`
	Reason string `json:"reason,omitempty"`
}

// ApplyJoinResp answers apply_join_group with the application's event id,
// which the owner or an admin passes to process_application.
type ApplyJoinResp struct {
	EventID int64 `json:"event_id"`
}

// ProcessApplicationReq approves or rejects a join application.
type ProcessApplicationReq struct {
	EventID int64  `json:"event_id"`
	Approve bool   `json:"approve"`
	Reason  string `json:"reason,omitempty"`
}

// PublicGroupsReq pages through the app's public groups (Count ≤ 500).
type PublicGroupsReq struct {
	Start int `json:"start"`
	Count int `json:"count"`
}

// Group event types (JMessage's numbers, sdk.md §13.2).
const (
	EventGroupCreated        = 8
	EventGroupMemberExit     = 9 // Extra ExtraDissolved: the owner dissolved the group
	EventGroupMembersAdded   = 10
	EventGroupMembersRemoved = 11
	EventGroupInfoUpdated    = 12
	EventGroupJoinApplied    = 56
	EventGroupJoinRejected   = 57
	EventGroupMemberSilence  = 65 // Extra 1 muted, 2 unmuted
	EventGroupAdminChanged   = 80 // Extra 1 added, 2 removed
	EventGroupOwnerChanged   = 82
	ExtraDissolved           = 69
)

// GroupEventBody is the msg_body of a group event message (msg_type
// "event", from_type "system"), stored in the group's conversation and
// delivered like any message of it.
type GroupEventBody struct {
	EventType   int      `json:"event_type"`
	GID         int64    `json:"gid"`
	From        string   `json:"from_username,omitempty"` // who did it
	To          []string `json:"to_usernames,omitempty"`  // whom it concerns
	Extra       int      `json:"extra,omitempty"`
	NewOwner    string   `json:"new_owner,omitempty"`
	Description string   `json:"description,omitempty"`
	EventID     int64    `json:"event_id,omitempty"` // join applications
	GroupName   string   `json:"group_name,omitempty"`
	DurationMs  int64    `json:"duration_ms,omitempty"` // silence
}
