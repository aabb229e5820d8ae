package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmsg-im/jmsg/wire"
)

// ActOptions qualify a request made through Do.
type ActOptions struct {
	// AsAdmin marks what the request sends as from an admin (from_type
	// "admin"), as REST sends are.
	AsAdmin bool
}

// Do runs a request of the client protocol (op with req as its data) as
// the user username of appKey, without a connection: the same checks,
// changes and pushes to online clients as if that user had sent it from
// a client. It returns the response data, or the error the client would
// get (*jmsg.Error with the client protocol's code); store.ErrNotFound
// when the user does not exist. The REST API acts through it.
func (s *Server) Do(ctx context.Context, appKey, username, op string, req any, opt ActOptions) (json.RawMessage, error) {
	h, ok := handlers[op]
	if !ok || op == wire.OpInit || op == wire.OpLogin || op == wire.OpRegister || op == wire.OpLogout {
		return nil, fmt.Errorf("server: op %q cannot be run by Do", op)
	}
	u, err := s.store.UserByName(ctx, appKey, username)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	c := &conn{s: s, ctx: ctx, appKey: appKey, uid: u.UID, username: u.Username, replies: make(chan *wire.Frame, 1)}
	c.qcond.L = &c.qmu
	c.closed.Store(true) // nothing is queued or written: there is no socket
	if opt.AsAdmin {
		c.fromType = "admin"
	}
	f := &wire.Frame{Op: op, ID: 1, Data: data}
	res, err := h.fn(c, f)
	if errors.Is(err, errAsync) {
		select {
		case r := <-c.replies:
			if err := r.Err(); err != nil {
				return nil, err
			}
			return r.Data, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err != nil {
		return nil, err
	}
	if res == nil {
		res = struct{}{}
	}
	return json.Marshal(res)
}
