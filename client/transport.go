package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

// transport is one WebSocket connection to jmsgd: it correlates requests
// with responses and hands pushes to onPush. Its reader goroutine is owned
// by the transport and ends with it.
type transport struct {
	ws     *websocket.Conn
	onPush func(*wire.Frame) // called on the reader goroutine; must not block on requests
	nextID atomic.Uint64
	// requests counts the requests written (Client.Stats).
	requests *atomic.Int64

	mu      sync.Mutex // guards pending and err
	pending map[uint64]chan *wire.Frame
	err     error // set when the connection has ended

	done chan struct{} // closed when the reader has stopped
}

// wsURL turns a server URL (http, https, ws or wss, with or without the
// /v1/ws path) into the WebSocket endpoint.
func wsURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return "", errors.New("no host")
	}
	if !strings.HasSuffix(u.Path, "/v1/ws") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/ws"
	}
	return u.String(), nil
}

// dial connects to endpoint and starts the reader.
func dial(ctx context.Context, endpoint string, onPush func(*wire.Frame), requests *atomic.Int64) (*transport, error) {
	ws, _, err := websocket.Dial(ctx, endpoint, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	t := &transport{ws: ws, onPush: onPush, requests: requests, pending: map[uint64]chan *wire.Frame{}, done: make(chan struct{})}
	go t.readLoop()
	return t, nil
}

func (t *transport) readLoop() {
	defer close(t.done)
	for {
		typ, b, err := t.ws.Read(context.Background())
		if err != nil {
			t.fail(err)
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		frames, err := wire.SplitBatch(b)
		if err != nil {
			continue
		}
		for _, fb := range frames {
			t.handle(fb)
		}
	}
}

// handle routes one frame: a response to its waiting call, a push to onPush.
func (t *transport) handle(b []byte) {
	var f wire.Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return // a frame this SDK cannot read; the request it answers times out
	}
	if f.ID == 0 {
		t.onPush(&f)
		return
	}
	t.mu.Lock()
	ch := t.pending[f.ID]
	delete(t.pending, f.ID)
	t.mu.Unlock()
	if ch != nil {
		ch <- &f
	}
}

// fail ends every waiting request with err.
func (t *transport) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
	}
	for id, ch := range t.pending {
		close(ch)
		delete(t.pending, id)
	}
}

// alive reports whether the connection is still up.
func (t *transport) alive() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err == nil
}

// errNetwork is a request that could not complete because the connection
// failed or timed out (860016).
func errNetwork(err error) error { return jmsg.Wrap(jmsg.SDKNetworkOtherError, err) }

// call sends a request and waits for its response, decoding the response
// data into out (which may be nil). A server error comes back as the
// *jmsg.Error it carries; a response that cannot be decoded is 860021.
func (t *transport) call(ctx context.Context, op string, in, out any) error {
	wait, err := t.start(ctx, op, in)
	if err != nil {
		return err
	}
	return wait(ctx, out)
}

// start writes a request and returns a function that waits for its
// response. Requests started one after the other from one goroutine reach
// the server in that order, so a caller can pipeline them.
func (t *transport) start(ctx context.Context, op string, in any) (func(ctx context.Context, out any) error, error) {
	data, err := json.Marshal(in)
	if err != nil {
		return nil, jmsg.Wrap(jmsg.SDKParamInternalInvalid, err)
	}
	id := t.nextID.Add(1)
	ch := make(chan *wire.Frame, 1)
	t.mu.Lock()
	if t.err != nil {
		err := t.err
		t.mu.Unlock()
		return nil, errNetwork(err)
	}
	t.pending[id] = ch
	t.mu.Unlock()
	t.requests.Add(1)
	b, _ := json.Marshal(wire.Frame{Op: op, ID: id, Data: data})
	if err := t.ws.Write(ctx, websocket.MessageText, b); err != nil {
		t.forget(id)
		return nil, errNetwork(err)
	}
	return func(ctx context.Context, out any) error {
		select {
		case f, ok := <-ch:
			if !ok {
				return errNetwork(t.lastErr())
			}
			return decodeResponse(op, f, out)
		case <-ctx.Done():
			t.forget(id)
			return errNetwork(ctx.Err())
		}
	}, nil
}

// decodeResponse turns a response frame into the call's result.
func decodeResponse(op string, f *wire.Frame, out any) error {
	if f.Code != 0 {
		return &jmsg.Error{Code: f.Code, Message: f.Message}
	}
	if len(f.Data) > 0 && string(f.Data) != "null" && !jmsg.IsJSONObject(f.Data) {
		return jmsg.Errorf(jmsg.SDKNetworkResultUnexpected, "%s: response data is not an object", op)
	}
	if out == nil {
		return nil
	}
	if len(f.Data) == 0 || json.Unmarshal(f.Data, out) != nil {
		return jmsg.Errorf(jmsg.SDKNetworkResultUnexpected, "%s: cannot decode response", op)
	}
	return nil
}

// notify sends a request whose response is not awaited (acks).
func (t *transport) notify(ctx context.Context, op string, in any) {
	t.requests.Add(1)
	data, _ := json.Marshal(in)
	b, _ := json.Marshal(wire.Frame{Op: op, ID: t.nextID.Add(1), Data: data})
	t.ws.Write(ctx, websocket.MessageText, b)
}

func (t *transport) forget(id uint64) {
	t.mu.Lock()
	delete(t.pending, id)
	t.mu.Unlock()
}

func (t *transport) lastErr() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		return errors.New("connection closed")
	}
	return t.err
}

// close ends the connection and waits for the reader.
func (t *transport) close() {
	t.ws.Close(websocket.StatusNormalClosure, "")
	<-t.done
}
