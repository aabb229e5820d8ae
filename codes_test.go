package jmsg

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/jmsg-im/jmsg/internal/codetable"
)

// TestCodeTableParses checks that the embedded table parses without
// duplicates and that codes_gen.go was regenerated after the last edit of
// codes.tsv: every row has a `Name = code` constant and nothing else does.
func TestCodeTableParses(t *testing.T) {
	infos, err := codetable.Parse(codesTSV)
	if err != nil {
		t.Fatalf("codes.tsv does not parse: %v", err)
	}
	if len(infos) < 300 {
		t.Fatalf("codes.tsv has %d rows, want the full table (>= 300)", len(infos))
	}
	codes := map[int]bool{}
	names := map[string]bool{}
	for _, in := range infos {
		if codes[in.Code] {
			t.Errorf("duplicate code %d", in.Code)
		}
		if names[in.Name] {
			t.Errorf("duplicate name %s", in.Name)
		}
		codes[in.Code], names[in.Name] = true, true
		if in.Chinese == "" {
			t.Errorf("code %d (%s) has no Chinese description", in.Code, in.Name)
		}
	}
	if got := len(Codes()); got != len(infos) {
		t.Errorf("Codes() has %d entries, table has %d", got, len(infos))
	}

	src, err := os.ReadFile("codes_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	constRE := regexp.MustCompile(`(?m)^\t([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([0-9]+)\s*//`)
	gen := map[string]int{}
	for _, m := range constRE.FindAllStringSubmatch(string(src), -1) {
		code, err := strconv.Atoi(m[2])
		if err != nil {
			t.Fatalf("codes_gen.go: bad code %q", m[2])
		}
		if _, dup := gen[m[1]]; dup {
			t.Errorf("codes_gen.go: constant %s declared twice", m[1])
		}
		gen[m[1]] = code
	}
	if len(gen) != len(infos) {
		t.Errorf("codes_gen.go has %d constants, codes.tsv has %d rows: run `go generate`", len(gen), len(infos))
	}
	for _, in := range infos {
		code, ok := gen[in.Name]
		switch {
		case !ok:
			t.Errorf("codes_gen.go lacks %s = %d: run `go generate`", in.Name, in.Code)
		case code != in.Code:
			t.Errorf("codes_gen.go has %s = %d, codes.tsv says %d: run `go generate`", in.Name, code, in.Code)
		}
	}
}

// TestSeedMessages checks the 26 seed codes (errors.md section (a)) against
// their exact English and Chinese strings.
func TestSeedMessages(t *testing.T) {
	seeds := []struct {
		code   int
		en, zh string
	}{
		{860015, "Network downloading media failed.", "媒体文件下载失败"},
		{860018, "Network uploading media failed", "媒体文件上传失败"},
		{860020, "Getting upload token failed", "获取媒体文件上传 token 失败"},
		{860021, "Network result is invalid", "服务器端返回的数据非预期"},
		{861004, "DB Migrating failed", "SDK数据库升级失败"},
		{861100, "Appkey is invalid", "Appkey 不合法"},
		{861101, "Internal param check failure", "内部参数校验出错"},
		{863001, "Username is invalid", "无效的用户名"},
		{863002, "Password is invalid", "无效的密码"},
		{863004, "User is not at Login state", "用户未在登录状态"},
		{863006, "User repeat Login fault", "重复登录的错误"},
		{864001, "It is not a media message", "不是媒体消息"},
		{864002, "Media resource is missing", "媒体资源意外丢失"},
		{864003, "Media crc32 code is invalid", "媒体CRC码无效"},
		{864004, "Media crc check failure", "媒体CRC校验失败"},
		{864005, "Uploading media file is empty", "上传的媒体文件意外丢失"},
		{865001, "Message content is invalid", "无效的消息内容"},
		{865002, "Message is nil", "消息为空"},
		{865003, "Message is not prepared for sending", "消息未满足发送的条件"},
		{865004, "You are not in the group for sending message", "你不是发送群聊消息的群组成员"},
		{866001, "Unknown conversation type", "未知的会话类型"},
		{866002, "Conversation username is invalid", "单聊会话用户名无效"},
		{866003, "Conversation groupId is invalid", "群聊会话群组ID无效"},
		{867001, "GroupId is invalid", "无效的群组ID"},
		{867002, "Group fields are invalid", "群组字段无效"},
		{869999, "Unknown SDK error", "未知的SDK错误码"},
	}
	if len(seeds) != 26 {
		t.Fatalf("seed list has %d entries, want 26", len(seeds))
	}
	for _, s := range seeds {
		if _, ok := Lookup(s.code); !ok {
			t.Errorf("seed code %d missing from the table", s.code)
			continue
		}
		if got := MessageOf(s.code); got != s.en {
			t.Errorf("MessageOf(%d) = %q, want %q", s.code, got, s.en)
		}
		if got := ChineseOf(s.code); got != s.zh {
			t.Errorf("ChineseOf(%d) = %q, want %q", s.code, got, s.zh)
		}
	}
}

// TestTrickyMessages checks messages whose odd spelling or spacing must be
// reproduced byte for byte.
func TestTrickyMessages(t *testing.T) {
	cases := []struct {
		code int
		want string
	}{
		{0, "success"},
		{880608, "num exceed  limit"}, // double space
		{882002, "user exit，no such user，password error，uid invalid，gid invalid"}, // full-width commas
		{882005, "response time out，try again later"},                             // full-width comma
		{899009, "Appkey not exit"},                                               // typo
		{803009, "the message contains sensitive word: the word"},
		{899014, "User list is bigger than 500"}, // copy of 899013's text
		{899013, "User list is bigger than 500"},
		{898003, "Parameter invalid!"},
		{898008, "Basic authentication failed."},
		{899008, "Basic authentication failed"},
		{880102, "signatu fail"},
		{2002, "Rate limit exceeded"},
		{899015, "User 's group are full can not continue"},
	}
	for _, c := range cases {
		if got := MessageOf(c.code); got != c.want {
			t.Errorf("MessageOf(%d) = %q, want %q", c.code, got, c.want)
		}
	}
	if got := MessageOf(123456789); got != "unknown error" {
		t.Errorf("MessageOf(unknown) = %q, want %q", got, "unknown error")
	}
	// Constants that other packages rely on keep their codes.
	named := map[string][2]int{
		"ServerInvalidRequest":          {ServerInvalidRequest, 800008},
		"ServerFrequencyLimit":          {ServerFrequencyLimit, 800017},
		"ServerGroupIDNotExist":         {ServerGroupIDNotExist, 800018},
		"ServerSendSystemError":         {ServerSendSystemError, 803001},
		"ServerMessageTooLong":          {ServerMessageTooLong, 803007},
		"ServerSendFrequencyLimit":      {ServerSendFrequencyLimit, 803010},
		"ServerMessageContentJSONError": {ServerMessageContentJSONError, 803011},
		"TcpUserNotRegistered":          {TcpUserNotRegistered, 801003},
		"HttpPrameterInvalid":           {HttpPrameterInvalid, 898003},
		"QiniuTokenInvalid":             {QiniuTokenInvalid, 862001},
		"SDKParamConversationNotFound":  {SDKParamConversationNotFound, 866004},
		"RestUserExist":                 {RestUserExist, 899001},
		"RestParameterInvalid":          {RestParameterInvalid, 899003},
		"RestRateLimitExceeded":         {RestRateLimitExceeded, 2002},
	}
	for name, v := range named {
		if v[0] != v[1] {
			t.Errorf("%s = %d, want %d", name, v[0], v[1])
		}
	}
}

// TestErrorAs checks that *Error works with errors.As and errors.Is through
// wrapping, and CodeOf's fallbacks.
func TestErrorAs(t *testing.T) {
	base := E(SDKUserNotLogin)
	if base.Code != 863004 || base.Message != "User is not at Login state" {
		t.Fatalf("E(SDKUserNotLogin) = %+v", base)
	}
	wrapped := fmt.Errorf("send: %w", base)
	var je *Error
	if !errors.As(wrapped, &je) {
		t.Fatal("errors.As did not find *Error in a wrapped error")
	}
	if je != base {
		t.Errorf("errors.As found %p, want %p", je, base)
	}
	if got := CodeOf(wrapped); got != SDKUserNotLogin {
		t.Errorf("CodeOf(wrapped) = %d, want %d", got, SDKUserNotLogin)
	}
	if got := CodeOf(errors.New("plain")); got != 869999 {
		t.Errorf("CodeOf(plain error) = %d, want 869999", got)
	}
	if got := CodeOf(nil); got != 0 {
		t.Errorf("CodeOf(nil) = %d, want 0", got)
	}
	if !errors.Is(wrapped, E(SDKUserNotLogin)) {
		t.Error("errors.Is(wrapped, E(same code)) = false, want true")
	}
	if errors.Is(wrapped, E(SDKUserInvalidState)) {
		t.Error("errors.Is(wrapped, E(other code)) = true, want false")
	}
	cause := errors.New("disk full")
	w := Wrap(SDKDBMigrateFailed, cause)
	if !errors.Is(fmt.Errorf("setup: %w", w), cause) {
		t.Error("errors.Is does not reach the cause of Wrap")
	}
	if got := CodeOf(fmt.Errorf("outer: %w", w)); got != SDKDBMigrateFailed {
		t.Errorf("CodeOf(Wrap) = %d, want %d", got, SDKDBMigrateFailed)
	}
}
