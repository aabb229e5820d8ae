package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// forbiddenDeps are packages the SDK must never depend on: jmsgd's own
// packages and the server-side drivers.
var forbiddenDeps = []string{
	"github.com/jmsg-im/jmsg/server",
	"github.com/jmsg-im/jmsg/internal/daemon",
	"github.com/jackc/pgx",
	"github.com/nats-io/",
	"github.com/aws/",
	"github.com/minio/",
}

// TestSDKImportsNoServerPackage fails when the SDK (its non-test code)
// depends, directly or not, on a server package or a server-side driver.
func TestSDKImportsNoServerPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/jmsg-im/jmsg/client/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned only %d packages: %q", len(deps), out)
	}
	for _, dep := range deps {
		for _, bad := range forbiddenDeps {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("the SDK depends on %s", dep)
			}
		}
	}
}
