package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/client"
)

// mediaFlags are send's flags for media messages; at most one of image,
// file, voice and video.
type mediaFlags struct {
	image, file, voice, video *string
	name, thumb               *string
	duration                  *int
	quiet                     *bool
}

func (m mediaFlags) kind() (string, int) {
	n, kind := 0, ""
	for k, v := range map[string]*string{"image": m.image, "file": m.file, "voice": m.voice, "video": m.video} {
		if *v != "" {
			n, kind = n+1, k
		}
	}
	return kind, n
}

// content builds the media content the flags ask for, or nil when they ask
// for none.
func (m mediaFlags) content() (client.Content, error) {
	kind, n := m.kind()
	switch {
	case n == 0:
		return nil, nil
	case n > 1:
		return nil, &flagError{"give one of -image, -file, -voice and -video"}
	}
	switch kind {
	case "image":
		return client.NewImageContent(*m.image)
	case "file":
		name := *m.name
		if name == "" {
			name = baseName(*m.file)
		}
		return client.NewFileContent(*m.file, name)
	case "voice":
		if *m.duration <= 0 {
			return nil, &flagError{"-voice needs -duration SECONDS"}
		}
		return client.NewVoiceContent(*m.voice, *m.duration)
	default:
		if *m.thumb == "" || *m.duration <= 0 {
			return nil, &flagError{"-video needs -thumb IMAGE and -duration SECONDS"}
		}
		return client.NewVideoContent(*m.video, *m.thumb, *m.duration)
	}
}

func baseName(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[i+1:]
	}
	return path
}

// progressBar draws "label [=====>    ]  45%  1.2 MB / 2.6 MB" on w,
// redrawn in place, at most ten times a second.
type progressBar struct {
	w     io.Writer
	label string
	mu    sync.Mutex
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, label string) *progressBar {
	return &progressBar{w: w, label: label}
}

// update shows done of total bytes (total ≤ 0: unknown).
func (p *progressBar) update(done, total int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last, p.drawn = time.Now(), true
	if total <= 0 {
		fmt.Fprintf(p.w, "\r%s %s", p.label, humanBytes(done))
		return
	}
	frac := min(float64(done)/float64(total), 1)
	const width = 30
	fill := int(frac * width)
	bar := strings.Repeat("=", fill) + ">" + strings.Repeat(" ", width-fill)
	fmt.Fprintf(p.w, "\r%s [%s] %3.0f%%  %s / %s", p.label, bar, frac*100, humanBytes(done), humanBytes(total))
}

// done ends the bar's line.
func (p *progressBar) done() {
	if p != nil && p.drawn {
		fmt.Fprintln(p.w)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// describeMedia is the one-line description of a media content for tail
// and history.
func describeMedia(c client.Content) string {
	switch c := c.(type) {
	case *client.ImageContent:
		return fmt.Sprintf("image %dx%d %s (%s)%s", c.Width, c.Height, c.Format, humanBytes(c.FSize), localNote(c.Path))
	case *client.VoiceContent:
		return fmt.Sprintf("voice %ds %s (%s)%s", c.Duration, c.Format, humanBytes(c.FSize), localNote(c.Path))
	case *client.FileContent:
		return fmt.Sprintf("file %s (%s)%s", c.FName, humanBytes(c.FSize), localNote(c.Path))
	case *client.VideoContent:
		return fmt.Sprintf("video %ds %s (%s)%s", c.Duration, c.FName, humanBytes(c.FSize), localNote(c.Path))
	case *client.LocationContent:
		return fmt.Sprintf("location %.5f,%.5f %q", c.Latitude, c.Longitude, c.Label)
	}
	return ""
}

func localNote(path string) string {
	if path == "" {
		return ""
	}
	return " at " + path
}

// cmdDownload fetches the original of a media message of a conversation,
// with a progress bar, verifies its CRC-32 (the SDK does) and prints where
// it is, or copies it to -o.
func cmdDownload(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs, dirFlag := newFlags("download")
	with := fs.String("with", "", "the other user of the conversation")
	group := fs.Int64("group", 0, "or: the group id")
	seq := fs.Int64("seq", 0, "the message's sequence number (#N in history)")
	to := fs.String("o", "", "copy the file here")
	quiet := fs.Bool("q", false, "no progress bar")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*with == "") == (*group == 0) || *seq <= 0 {
		return &flagError{"give -with USER or -group GID, and -seq N"}
	}
	typ, target := jmsg.ConversationSingle, *with
	if *group != 0 {
		typ, target = jmsg.ConversationGroup, jmsg.FormatID(*group)
	}
	c, conv, err := syncedConversation(ctx, *dirFlag, typ, target)
	if err != nil {
		return err
	}
	defer c.Close()
	ms, err := conv.Messages(0, 100000)
	if err != nil {
		return err
	}
	var m *client.Message
	for _, x := range ms {
		if x.Seq == *seq {
			m = x
		}
	}
	if m == nil {
		return fmt.Errorf("no message #%d in that conversation", *seq)
	}
	var bar *progressBar
	if !*quiet {
		bar = newProgressBar(errOut, "download")
	}
	path, err := c.DownloadMedia(ctx, m, client.DownloadOptions{Progress: bar.update})
	bar.done()
	if err != nil {
		return err
	}
	if *to == "" {
		fmt.Fprintln(out, path)
		return nil
	}
	if err := copyFile(path, *to); err != nil {
		return err
	}
	fmt.Fprintln(out, *to)
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
