package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
)

const usage = `jmsg: the jmsg command line

Usage:
  jmsg register -server URL -appkey KEY -u USER -p PASSWORD [-nickname NAME]
  jmsg login    -server URL -appkey KEY -u USER -p PASSWORD [-platform a|i|j|w]
  jmsg logout
  jmsg whoami
  jmsg send -to USER [-custom] TEXT...        (with -custom, TEXT is a JSON object)
  jmsg send -to USER -image PATH | -file PATH [-name NAME] | -voice PATH -duration S
            | -video PATH -thumb IMAGE -duration S   [-q]     (with an upload progress bar)
  jmsg download -with USER | -group GID  -seq N [-o PATH] [-q]   fetch a media message's file
  jmsg tail [-json]                           print incoming messages until interrupted
  jmsg conversations [-json]
  jmsg history -with USER [-limit N] [-json]

Every command takes -config DIR (default $JMSG_CONFIG_DIR, else ~/.config/jmsg),
where login keeps its session token and the SDK its local database.
Errors print the JMessage code, e.g. "jmsg: 801004 invalid password".
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmds := map[string]func(context.Context, []string, io.Writer) error{
		"register": cmdRegister, "login": cmdLogin, "logout": cmdLogout, "whoami": cmdWhoami,
		"send":     func(ctx context.Context, a []string, o io.Writer) error { return cmdSend(ctx, a, o, stderr) },
		"download": func(ctx context.Context, a []string, o io.Writer) error { return cmdDownload(ctx, a, o, stderr) },
		"tail":     cmdTail, "conversations": cmdConversations, "history": cmdHistory,
	}
	run, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "jmsg: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err := run(ctx, args[1:], stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var fe *flagError
		if errors.As(err, &fe) {
			fmt.Fprintln(stderr, "jmsg:", fe.msg)
			return 2
		}
		var je *jmsg.Error
		if errors.As(err, &je) {
			fmt.Fprintf(stderr, "jmsg: %d %s\n", je.Code, je.Message)
			return 1
		}
		fmt.Fprintln(stderr, "jmsg:", err)
		return 1
	}
	return 0
}

type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

func newFlags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("jmsg "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("config", "", "config directory")
	return fs, dir
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &flagError{err.Error()}
	}
	return nil
}

func required(pairs ...string) error {
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return &flagError{"missing -" + pairs[i]}
		}
	}
	return nil
}

// account holds the flags of register and login.
type account struct {
	dir, server, appKey, user, pass *string
}

func accountFlags(fs *flag.FlagSet, dir *string) account {
	return account{dir: dir,
		server: fs.String("server", "", "jmsgd base URL"),
		appKey: fs.String("appkey", "", "app key"),
		user:   fs.String("u", "", "username"),
		pass:   fs.String("p", "", "password"),
	}
}

// client checks the flags and returns an SDK client for platform.
func (a account) client(platform string) (*client.Client, string, error) {
	if err := required("server", *a.server, "appkey", *a.appKey, "u", *a.user, "p", *a.pass); err != nil {
		return nil, "", err
	}
	dir, err := configDir(*a.dir)
	if err != nil {
		return nil, "", err
	}
	c, err := newSDK(dir, *a.server, *a.appKey, platform)
	return c, dir, err
}

func cmdRegister(ctx context.Context, args []string, out io.Writer) error {
	fs, dirFlag := newFlags("register")
	acct := accountFlags(fs, dirFlag)
	nick := fs.String("nickname", "", "nickname")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, _, err := acct.client("")
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Register(ctx, *acct.user, *acct.pass, &jmsg.UserInfo{Nickname: *nick}); err != nil {
		return err
	}
	fmt.Fprintf(out, "registered %s\n", *acct.user)
	return nil
}

func cmdLogin(ctx context.Context, args []string, out io.Writer) error {
	fs, dirFlag := newFlags("login")
	acct := accountFlags(fs, dirFlag)
	platform := fs.String("platform", "w", "platform letter: a, i, j or w")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, dir, err := acct.client(*platform)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login(ctx, *acct.user, *acct.pass); err != nil {
		return err
	}
	s := saved{Server: *acct.server, AppKey: *acct.appKey, Platform: *platform, Username: *acct.user, Token: c.Token()}
	if err := storeSession(dir, s); err != nil {
		return err
	}
	fmt.Fprintf(out, "logged in as %s\n", *acct.user)
	return nil
}

func cmdLogout(ctx context.Context, args []string, out io.Writer) error {
	fs, dirFlag := newFlags("logout")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, err := configDir(*dirFlag)
	if err != nil {
		return err
	}
	if err := os.Remove(dir + "/" + sessionFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	fmt.Fprintln(out, "logged out")
	return nil
}

func cmdWhoami(ctx context.Context, args []string, out io.Writer) error {
	fs, dirFlag := newFlags("whoami")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, err := configDir(*dirFlag)
	if err != nil {
		return err
	}
	s, err := loadSession(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s on %s (app %s, platform %s)\n", s.Username, s.Server, s.AppKey, s.Platform)
	return nil
}

func cmdSend(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs, dirFlag := newFlags("send")
	to := fs.String("to", "", "recipient username")
	custom := fs.Bool("custom", false, "send TEXT as a custom message (a JSON object)")
	mf := mediaFlags{
		image: fs.String("image", "", "send this image"), file: fs.String("file", "", "send this file"),
		voice: fs.String("voice", "", "send this voice recording"), video: fs.String("video", "", "send this video"),
		name:  fs.String("name", "", "-file: the file name shown (default: the path's last element)"),
		thumb: fs.String("thumb", "", "-video: its thumbnail image"), duration: fs.Int("duration", 0, "-voice, -video: seconds"),
		quiet: fs.Bool("q", false, "no progress bar"),
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	text := strings.Join(fs.Args(), " ")
	if err := required("to", *to); err != nil {
		return err
	}
	media, err := mf.content()
	if err != nil {
		return err
	}
	if media != nil && (text != "" || *custom) {
		return &flagError{"a media message takes no TEXT or -custom"}
	}
	dir, err := configDir(*dirFlag)
	if err != nil {
		return err
	}
	c, _, err := resume(ctx, dir)
	if err != nil {
		return err
	}
	defer c.Close()
	conv, err := c.CreateSingleConversation(ctx, *to)
	if err != nil {
		return err
	}
	var content client.Content = &client.TextContent{Text: text}
	switch {
	case media != nil:
		content = media
	case *custom:
		content = &client.CustomContent{JSON: json.RawMessage(text)}
	}
	m, err := conv.CreateMessage(content)
	if err != nil {
		return err
	}
	var bar *progressBar
	if media != nil && !*mf.quiet {
		bar = newProgressBar(errOut, "upload")
	}
	m, err = c.SendWithOptions(ctx, m, client.SendOptions{UploadProgress: bar.update})
	bar.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sent to %s: msg_id %d seq %d\n", *to, m.ServerMessageID, m.Seq)
	return nil
}

// line formats a message for tail and history.
func line(m *client.Message) string {
	ts := time.UnixMilli(m.Timestamp).Format("2006-01-02 15:04:05")
	body := m.Text()
	if cc, ok := m.Content.(*client.CustomContent); ok {
		body = "custom " + string(cc.JSON)
	}
	if d := describeMedia(m.Content); d != "" {
		body = d
	}
	return fmt.Sprintf("%s  %s → %s  #%d  %s", ts, m.From, targetOf(m), m.Seq, body)
}

func targetOf(m *client.Message) string {
	if m.Received {
		return "me"
	}
	return m.Target
}

// jsonMessage is the flat JSON shape of a message (sdk.md §15).
func jsonMessage(m *client.Message) map[string]any {
	out := map[string]any{
		"id": m.ID, "serverMessageId": m.ServerMessageID, "seq": m.Seq, "from": m.From,
		"target": m.Target, "createTime": m.Timestamp, "isSend": !m.Received, "type": m.Content.ContentType().String(),
	}
	switch c := m.Content.(type) {
	case *client.TextContent:
		out["text"] = c.Text
		if len(c.Extras) > 0 {
			out["extras"] = c.Extras
		}
	case *client.CustomContent:
		out["customObject"] = c.JSON
	case *client.ImageContent:
		out["thumbPath"], out["path"], out["mediaId"] = c.ThumbPath, c.Path, c.MediaID
	case *client.VoiceContent:
		out["path"], out["duration"], out["mediaId"] = c.Path, c.Duration, c.MediaID
	case *client.FileContent:
		out["path"], out["fileName"], out["mediaId"] = c.Path, c.FName, c.MediaID
	case *client.VideoContent:
		out["path"], out["thumbPath"], out["duration"], out["fileName"], out["mediaId"] = c.Path, c.ThumbPath, c.Duration, c.FName, c.MediaID
	case *client.LocationContent:
		out["latitude"], out["longitude"], out["scale"], out["address"] = c.Latitude, c.Longitude, c.Scale, c.Label
	}
	return out
}

func printMessage(out io.Writer, m *client.Message, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(jsonMessage(m))
		fmt.Fprintln(out, string(b))
		return
	}
	fmt.Fprintln(out, line(m))
}

func cmdTail(ctx context.Context, args []string, out io.Writer) error {
	fs, dirFlag := newFlags("tail")
	asJSON := fs.Bool("json", false, "one JSON object per message")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, err := configDir(*dirFlag)
	if err != nil {
		return err
	}
	c, _, err := resume(ctx, dir)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-c.Events():
			if !ok {
				return nil
			}
			switch e := e.(type) {
			case client.MessageReceived:
				printMessage(out, e.Message, *asJSON)
			case client.OfflineMessages:
				for _, m := range e.Messages {
					printMessage(out, m, *asJSON)
				}
			case client.LoginStateChanged:
				return fmt.Errorf("session ended (event %d): another login on this platform took over", e.Reason)
			}
		}
	}
}

func cmdConversations(ctx context.Context, args []string, out io.Writer) error {
	fs, dirFlag := newFlags("conversations")
	asJSON := fs.Bool("json", false, "JSON output")
	if err := parse(fs, args); err != nil {
		return err
	}
	dir, err := configDir(*dirFlag)
	if err != nil {
		return err
	}
	c, _, err := resume(ctx, dir)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := waitSynced(ctx, c, nil); err != nil {
		return err
	}
	convs, err := c.Conversations()
	if err != nil {
		return err
	}
	for _, cv := range convs {
		latest, _ := cv.LatestMessage()
		if *asJSON {
			o := map[string]any{"conversationType": "single", "target": cv.Target, "title": cv.Title, "unreadCount": cv.UnreadCount}
			if latest != nil {
				o["latestMessage"] = jsonMessage(latest)
			}
			b, _ := json.Marshal(o)
			fmt.Fprintln(out, string(b))
			continue
		}
		last := ""
		if latest != nil {
			last = line(latest)
		}
		fmt.Fprintf(out, "%-20s unread %-4d %s\n", cv.Target, cv.UnreadCount, last)
	}
	return nil
}

func cmdHistory(ctx context.Context, args []string, out io.Writer) error {
	fs, dirFlag := newFlags("history")
	with := fs.String("with", "", "the other user")
	limit := fs.Int("limit", 20, "how many messages, newest last")
	asJSON := fs.Bool("json", false, "JSON output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required("with", *with); err != nil {
		return err
	}
	c, conv, err := syncedConversation(ctx, *dirFlag, jmsg.ConversationSingle, *with)
	if err != nil {
		return err
	}
	defer c.Close()
	ms, err := conv.Messages(0, *limit)
	if err != nil {
		return err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		printMessage(out, ms[i], *asJSON)
	}
	return nil
}

// syncedConversation resumes the session kept in the config directory,
// waits until it has caught up with the server and returns the client and
// its conversation of typ with target. The caller closes the client.
func syncedConversation(ctx context.Context, dirFlag string, typ jmsg.ConversationType, target string) (*client.Client, *client.Conversation, error) {
	dir, err := configDir(dirFlag)
	if err != nil {
		return nil, nil, err
	}
	c, _, err := resume(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	if err := waitSynced(ctx, c, nil); err != nil {
		c.Close()
		return nil, nil, err
	}
	conv, err := c.Conversation(typ, target)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, conv, nil
}
