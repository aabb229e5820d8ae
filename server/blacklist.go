package server

import "github.com/jmsg-im/jmsg"

// checkBlocked refuses a single message of c's user to target when target
// has blacklisted them (803008). It reads the engine's copy of target's
// blacklist (socialcache.go): after the first message to target
// no send reads the store for it. Group messages are not checked.
func (c *conn) checkBlocked(target int64) error {
	if target == c.uid {
		return nil
	}
	listed, err := c.s.blacklisted(c.ctx, c.appKey, target, c.uid)
	if err != nil {
		return err
	}
	if listed {
		return jmsg.E(jmsg.TcpUserInBlacklist)
	}
	return nil
}
