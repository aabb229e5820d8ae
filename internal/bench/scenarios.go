package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jmsg-im/jmsg"
	"github.com/jmsg-im/jmsg/wire"
)

const benchPassword = "bench-pw"

// connectUsers registers and logs in one connection per name, in parallel.
// onPush(i) gives the push handler of connection i (nil for none).
func connectUsers(ctx context.Context, t *target, names []string, onPush func(i int) func([]byte)) ([]*wsClient, []string, error) {
	clients := make([]*wsClient, len(names))
	tokens := make([]string, len(names))
	errc := make(chan error, len(names))
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var h func([]byte)
			if onPush != nil {
				h = onPush(i)
			}
			c, err := dialClient(ctx, t.ws, t.appKey, h)
			if err != nil {
				errc <- err
				return
			}
			if _, err := c.call(ctx, wire.OpRegister, wire.RegisterReq{UserInfo: jmsg.UserInfo{Username: name}, Password: benchPassword}); err != nil && jmsg.CodeOf(err) != jmsg.HttpUserExist {
				errc <- fmt.Errorf("register %s: %w", name, err)
				c.close()
				return
			}
			f, err := c.call(ctx, wire.OpLogin, wire.LoginReq{Username: name, Password: benchPassword})
			if err != nil {
				errc <- fmt.Errorf("login %s: %w", name, err)
				c.close()
				return
			}
			var resp wire.LoginResp
			json.Unmarshal(f.Data, &resp)
			clients[i], tokens[i] = c, resp.Token
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		for _, c := range clients {
			if c != nil {
				c.close()
			}
		}
		return nil, nil, err
	}
	return clients, tokens, nil
}

func closeAll(cs []*wsClient) {
	for _, c := range cs {
		c.close()
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%05d", prefix, i)
	}
	return out
}

// sendLoop sends with window requests in flight, until ctx ends: as fast
// as acknowledgements allow when every is 0, else one send every interval
// (late sends catch up, never more than window in flight).
func sendLoop(ctx context.Context, c *wsClient, cnt *counters, window int, every time.Duration, req func() wire.SendReq) {
	inflight := make(chan chan *wire.Frame, window)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ch := range inflight {
			if f, ok := <-ch; ok && f.Code == 0 {
				cnt.acked.Add(1)
			} else {
				cnt.errors.Add(1)
			}
		}
	}()
	next := time.Now()
	for ctx.Err() == nil {
		if every > 0 {
			if d := time.Until(next); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					continue
				}
			}
			next = next.Add(every)
		}
		ch, err := c.start(context.Background(), wire.OpSend, req())
		if err != nil {
			cnt.errors.Add(1)
			break
		}
		cnt.sent.Add(1)
		inflight <- ch
	}
	close(inflight)
	wg.Wait()
}

// runOneToOne: Pairs senders each sending to their own receiver.
func runOneToOne(ctx context.Context, t *target, o Options) (Result, error) {
	var cnt counters
	setup := time.Now()
	senders, _, err := connectUsers(ctx, t, names("s", o.Pairs), nil)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(senders)
	recvNames := names("r", o.Pairs)
	receivers, _, err := connectUsers(ctx, t, recvNames, func(int) func([]byte) { return cnt.deliver })
	if err != nil {
		return Result{}, err
	}
	defer closeAll(receivers)
	r := Result{Connections: 2 * o.Pairs, SetupSeconds: time.Since(setup).Seconds()}
	elapsed, before, after := measure(ctx, t, o, &cnt, o.Duration, func(ctx context.Context) {
		var wg sync.WaitGroup
		for i, s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sendLoop(ctx, s, &cnt, o.Window, o.every(len(senders)), func() wire.SendReq { return textSend("single", recvNames[i], 0) })
			}()
		}
		wg.Wait()
	})
	r.Expected = cnt.acked.Load()
	waitDelivered(&cnt, r.Expected, 10*time.Second)
	finish(&r, &cnt, elapsed, before, after)
	r.MsgsPerSec = float64(r.Acked) / elapsed.Seconds()
	return r, nil
}

// runGroup: Members all online in one group, Senders of them sending.
func runGroup(ctx context.Context, t *target, o Options) (Result, error) {
	var cnt counters
	setup := time.Now()
	members, _, err := connectUsers(ctx, t, names("g", o.Members), func(int) func([]byte) { return cnt.deliver })
	if err != nil {
		return Result{}, err
	}
	defer closeAll(members)
	all := names("g", o.Members)
	first := min(len(all)-1, 499)
	f, err := members[0].call(ctx, wire.OpCreateGroup, wire.CreateGroupReq{Name: "bench", MaxMemberCount: o.Members, Members: all[1 : 1+first]})
	if err != nil {
		return Result{}, fmt.Errorf("creating the group: %w", err)
	}
	var g wire.GroupInfo
	json.Unmarshal(f.Data, &g)
	for rest := all[1+first:]; len(rest) > 0; {
		n := min(len(rest), 500)
		if _, err := members[0].call(ctx, wire.OpAddGroupMembers, wire.GroupUsersReq{GID: g.GID, Usernames: rest[:n]}); err != nil {
			return Result{}, fmt.Errorf("adding members: %w", err)
		}
		rest = rest[n:]
	}
	time.Sleep(500 * time.Millisecond) // let the membership events arrive before counting
	cnt.delivered.Store(0)
	gid := strconv.FormatInt(g.GID, 10)
	r := Result{Connections: o.Members, SetupSeconds: time.Since(setup).Seconds()}
	elapsed, before, after := measure(ctx, t, o, &cnt, o.Duration, func(ctx context.Context) {
		var wg sync.WaitGroup
		for _, s := range members[:min(o.Senders, len(members))] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sendLoop(ctx, s, &cnt, o.Window, o.every(min(o.Senders, len(members))), func() wire.SendReq { return textSend("group", gid, 0) })
			}()
		}
		wg.Wait()
	})
	r.Expected = cnt.acked.Load() * int64(o.Members-1)
	waitDelivered(&cnt, r.Expected, 30*time.Second)
	finish(&r, &cnt, elapsed, before, after)
	r.MsgsPerSec = float64(r.Delivered) / elapsed.Seconds()
	return r, nil
}

// runIdle: Conns authenticated connections held open; reports the server's
// memory per connection. After the hold every connection must still answer
// my_info (a request that needs its session): each that does counts as
// delivered, each that does not as lost.
func runIdle(ctx context.Context, t *target, o Options) (Result, error) {
	var cnt counters
	time.Sleep(time.Second) // let the fresh server settle before the baseline
	base, _ := t.usage()
	setup := time.Now()
	conns, _, err := connectUsers(ctx, t, names("i", o.Conns), nil)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	r := Result{Connections: len(conns), SetupSeconds: time.Since(setup).Seconds()}
	elapsed, before, after := measure(ctx, t, o, &cnt, o.Duration, func(ctx context.Context) { <-ctx.Done() })
	// Held means still logged in: every connection must answer a request
	// that needs a session. One that does not counts as lost.
	r.Expected = int64(len(conns))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if f, err := c.call(ctx, wire.OpMyInfo, struct{}{}); err == nil && f.Code == 0 {
				cnt.delivered.Add(1)
			} else {
				cnt.errors.Add(1)
			}
		}()
	}
	wg.Wait()
	finish(&r, &cnt, elapsed, before, after)
	r.RSSPerConnBytes = (after.rss - base.rss) / int64(len(conns))
	return r, nil
}

// runReconnect: Conns clients in groups of ten drop their connections,
// miss Missed messages each, and reconnect at once; reports how long until
// every client has fetched what it missed.
func runReconnect(ctx context.Context, t *target, o Options) (Result, error) {
	var cnt counters
	setup := time.Now()
	groups := (o.Conns + 9) / 10
	clients, tokens, err := connectUsers(ctx, t, names("c", o.Conns), nil)
	if err != nil {
		return Result{}, err
	}
	senders, _, err := connectUsers(ctx, t, names("w", groups), nil)
	if err != nil {
		closeAll(clients)
		return Result{}, err
	}
	defer closeAll(senders)
	all := names("c", o.Conns)
	gids := make([]string, groups)
	for i := range groups {
		f, err := senders[i].call(ctx, wire.OpCreateGroup, wire.CreateGroupReq{Name: "r", Members: all[i*10 : min(i*10+10, len(all))]})
		if err != nil {
			closeAll(clients)
			return Result{}, err
		}
		var g wire.GroupInfo
		json.Unmarshal(f.Data, &g)
		gids[i] = strconv.FormatInt(g.GID, 10)
	}
	closeAll(clients) // everyone drops
	for i := range groups {
		for range o.Missed {
			ch, err := senders[i].start(ctx, wire.OpSend, textSend("group", gids[i], 0))
			if err != nil {
				return Result{}, err
			}
			cnt.sent.Add(1)
			if f, ok := <-ch; ok && f.Code == 0 {
				cnt.acked.Add(1)
			}
		}
	}
	r := Result{Connections: o.Conns, SetupSeconds: time.Since(setup).Seconds(), Expected: int64(o.Conns * o.Missed)}
	var storm time.Duration
	elapsed, before, after := measure(ctx, t, o, &cnt, 5*time.Minute, func(ctx context.Context) {
		start := time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 512)
		for i := range o.Conns {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				n, err := catchUp(ctx, t, all[i], tokens[i])
				if err != nil {
					cnt.errors.Add(1)
				}
				cnt.delivered.Add(int64(n))
			}()
		}
		wg.Wait()
		storm = time.Since(start)
	})
	finish(&r, &cnt, elapsed, before, after)
	r.CatchUpSeconds = storm.Seconds()
	r.MsgsPerSec = float64(r.Delivered) / storm.Seconds()
	return r, nil
}

// catchUp reconnects as name with its token and fetches what it missed:
// sync, then history of each changed conversation. It returns the text
// messages fetched.
func catchUp(ctx context.Context, t *target, name, token string) (int, error) {
	c, err := dialClient(ctx, t.ws, t.appKey, nil)
	if err != nil {
		return 0, err
	}
	defer c.close()
	if _, err := c.call(ctx, wire.OpLogin, wire.LoginReq{Username: name, Token: token}); err != nil {
		return 0, err
	}
	f, err := c.call(ctx, wire.OpSync, wire.SyncReq{})
	if err != nil {
		return 0, err
	}
	var s wire.SyncResp
	json.Unmarshal(f.Data, &s)
	n := 0
	for _, ch := range s.Changes {
		h, err := c.call(ctx, wire.OpHistory, wire.HistoryReq{ConvID: ch.ConvID, After: ch.JoinSeq})
		if err != nil {
			return n, err
		}
		var hr wire.HistoryResp
		json.Unmarshal(h.Data, &hr)
		for _, m := range hr.Messages {
			var doc jmsg.Doc
			if json.Unmarshal(m.Content, &doc) == nil && doc.MsgType == "text" {
				n++
			}
		}
	}
	return n, nil
}
