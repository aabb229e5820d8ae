package wire

// OpRetract retracts a message the caller sent: RetractReq → {}. The
// stored message becomes a prompt (RetractPromptBody) and the online
// sessions of the conversation's members, the caller's other devices
// included, get an EventPush of type EventMessageRetract.
const OpRetract = "retract"

// EventMessageRetract is the event type of a retraction (sdk.md §13.2).
const EventMessageRetract = 55

// Values of EventPush.TargetType for EventMessageRetract.
const (
	RetractSingle = 0
	RetractGroup  = 1
)

// RetractReq names the message to retract by its server id.
type RetractReq struct {
	MsgID int64 `json:"msg_id"`
}

// MsgTypePrompt is the msg_type of a retracted message as stored and
// handed out by history; its msg_body is a RetractPromptBody.
const MsgTypePrompt = "prompt"

// PromptRetract is RetractPromptBody.PromptType of a retraction (iOS
// JMSGPromptContent RetractMessage, Android message_retract).
const PromptRetract = 0

// RetractPromptBody is the msg_body that replaces a retracted message's:
// the envelope (sender, target, create_time) stays as it was sent.
type RetractPromptBody struct {
	PromptType  int    `json:"prompt_type"`
	PromptText  string `json:"prompt_text"`
	OrigMsgType string `json:"orig_msg_type"` // the msg_type the message had
}
