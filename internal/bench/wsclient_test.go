package bench

import (
	"strings"
	"testing"

	"github.com/jmsg-im/jmsg/wire"
)

// The load generator's cheap batch splitter agrees with wire.SplitBatch.
func TestSplitBatchAgrees(t *testing.T) {
	frames := []string{
		`{"op":"msg","data":{"message":{"content":{"msg_body":{"text":"q\"uote, [x] {y}","extras":{"t":12}}}}}}`,
		`{"op":"send","id":3,"data":{"msg_id":9}}`,
		`{"op":"msg","data":{"message":{"content":{"msg_body":{"text":"\\","extras":{"t":13}}}}}}`,
	}
	b := []byte(`{"op":"batch","data":[` + strings.Join(frames, ",") + `]}`)
	mine, err := splitBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := wire.SplitBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != len(ref) {
		t.Fatalf("splitBatch = %d frames, wire.SplitBatch %d", len(mine), len(ref))
	}
	for i := range ref {
		if string(mine[i]) != string(ref[i]) {
			t.Errorf("frame %d: %s vs %s", i, mine[i], ref[i])
		}
	}
	if ts, ok := sentAt(mine[0]); !ok || ts.UnixNano() != 12 {
		t.Errorf("sentAt = %v, %v; want 12ns", ts, ok)
	}
}
