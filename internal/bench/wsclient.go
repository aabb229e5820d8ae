package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

// wsClient is a minimal client of jmsg's wire protocol for load: it
// pipelines requests and counts pushes, without a local store.
type wsClient struct {
	ws     *websocket.Conn
	nextID atomic.Uint64
	// onPush gets each push frame, raw, on the reader goroutine; the
	// client does not decode pushes, to keep the load generator cheap.
	onPush func(raw []byte)

	mu      sync.Mutex // guards pending
	pending map[uint64]chan *wire.Frame
	done    chan struct{}
	err     atomic.Value
}

func dialClient(ctx context.Context, url, appKey string, onPush func(raw []byte)) (*wsClient, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(4 << 20)
	c := &wsClient{ws: ws, onPush: onPush, pending: map[uint64]chan *wire.Frame{}, done: make(chan struct{})}
	go c.read()
	if _, err := c.call(ctx, wire.OpInit, wire.InitReq{AppKey: appKey, Version: wire.Version}); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *wsClient) read() {
	defer close(c.done)
	var buf bytes.Buffer // reused: frames are handled before the next read
	for {
		_, r, err := c.ws.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		b := buf.Bytes()
		if err != nil {
			c.err.Store(err)
			c.mu.Lock()
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		frames, err := splitBatch(b)
		if err != nil {
			continue
		}
		for _, fb := range frames {
			c.handle(fb)
		}
	}
}

// splitBatch is wire.SplitBatch without decoding the frames: it cuts a
// batch before each `,{"op":"` of its data array. Inside a JSON string a
// quote is always escaped, so that sequence is structural; it could appear
// nested only in an array of objects with an "op" key, which no frame the
// load generator receives contains. wsclient_test checks it against
// wire.SplitBatch.
func splitBatch(b []byte) ([][]byte, error) {
	if !bytes.HasPrefix(b, batchPrefix) {
		return [][]byte{b}, nil
	}
	data := b[len(batchPrefix) : len(b)-2] // without ]}
	out := make([][]byte, 0, 64)
	for {
		i := bytes.Index(data, frameSep)
		if i < 0 {
			return append(out, data), nil
		}
		out = append(out, data[:i])
		data = data[i+1:]
	}
}

var frameSep = []byte(`,{"op":"`)

var batchPrefix = []byte(`{"op":"batch","data":[`)

// handle routes one frame.
func (c *wsClient) handle(b []byte) {
	if bytes.HasPrefix(b, pushPrefix) {
		if c.onPush != nil {
			c.onPush(b)
		}
		return
	}
	var f wire.Frame
	if json.Unmarshal(b, &f) != nil {
		return
	}
	if f.ID == 0 {
		if c.onPush != nil {
			c.onPush(b)
		}
		return
	}
	c.mu.Lock()
	ch := c.pending[f.ID]
	delete(c.pending, f.ID)
	c.mu.Unlock()
	if ch != nil {
		ch <- &f
	}
}

// start writes a request; the returned channel gets its response (closed
// if the connection ends first).
func (c *wsClient) start(ctx context.Context, op string, in any) (chan *wire.Frame, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	id := c.nextID.Add(1)
	ch := make(chan *wire.Frame, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	b, _ := json.Marshal(wire.Frame{Op: op, ID: id, Data: data})
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, err
	}
	return ch, nil
}

func (c *wsClient) call(ctx context.Context, op string, in any) (*wire.Frame, error) {
	ch, err := c.start(ctx, op, in)
	if err != nil {
		return nil, err
	}
	select {
	case f, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("%s: connection closed", op)
		}
		if f.Code != 0 {
			return f, &jmsg.Error{Code: f.Code, Message: f.Message}
		}
		return f, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *wsClient) close() {
	c.ws.CloseNow()
	<-c.done
}

// textSend is a send request of a text message stamped with the send time,
// which the receiver reads back to measure latency.
func textSend(targetType, target string, seq int64) wire.SendReq {
	now := time.Now().UnixNano()
	body := `{"text":"b","extras":{"t":` + strconv.FormatInt(now, 10) + `}}`
	return wire.SendReq{Content: jmsg.Doc{
		Version: 1, TargetType: targetType, TargetID: target, CreateTime: now / 1e9,
		MsgType: "text", MsgBody: json.RawMessage(body),
	}}
}

// pushPrefix starts every message push as jmsgd encodes it.
var pushPrefix = []byte(`{"op":"msg"`)

// stampKey precedes the send time in a pushed message.
var stampKey = []byte(`"extras":{"t":`)

// sentAt reads the send time from a raw message push without decoding it.
func sentAt(raw []byte) (time.Time, bool) {
	i := bytes.Index(raw, stampKey)
	if i < 0 {
		return time.Time{}, false
	}
	var n int64
	digits := 0
	for _, c := range raw[i+len(stampKey):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
		digits++
	}
	if digits == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// isMessagePush reports whether raw is a message push.
func isMessagePush(raw []byte) bool { return bytes.HasPrefix(raw, pushPrefix) }
