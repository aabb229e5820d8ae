package wire

import (
	"strings"
	"testing"
)

func TestSplitBatch(t *testing.T) {
	frames := []string{`{"op":"msg","data":{"message":{"msg_id":1,"content":{"msg_body":{"text":"a, [b] {c}"}}}}}`, `{"op":"ping","id":7}`, `{"op":"event","data":{"event_type":1}}`}
	b := []byte(`{"op":"batch","data":[` + strings.Join(frames, ",") + `]}`)
	got, err := SplitBatch(b)
	if err != nil || len(got) != 3 {
		t.Fatalf("SplitBatch = %d frames, %v; want 3", len(got), err)
	}
	for i := range frames {
		if string(got[i]) != frames[i] {
			t.Errorf("frame %d = %s, want %s", i, got[i], frames[i])
		}
	}
	single := []byte(frames[1])
	if got, err := SplitBatch(single); err != nil || len(got) != 1 || string(got[0]) != frames[1] {
		t.Errorf("SplitBatch(plain frame) = %q, %v", got, err)
	}
	if _, err := SplitBatch([]byte(`{"op":"batch","data":[{"op":`)); err == nil {
		t.Error("SplitBatch(truncated) succeeded")
	}
}
