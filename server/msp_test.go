// This file tests how the Model Server Protocol metrics fold several models'
// KV caches into the one picture per pod that an endpoint picker reads.

package server

import "testing"

func TestSummarizeCache(t *testing.T) {
	tests := []struct {
		name   string
		models []ModelInfo
		want   cacheSummary
	}{
		{"none", nil, cacheSummary{}},
		{"one slot", []ModelInfo{{CtxSize: 512, KVCacheUsage: 0.25}}, cacheSummary{512, 1, 0.25}},
		{"slots", []ModelInfo{{CtxSize: 1024, KVSlots: 4, KVCacheUsage: 0.5}}, cacheSummary{1024, 4, 0.5}},
		// 512 positions half used and 2048 all free: 256 of 2560.
		{"mixed contexts", []ModelInfo{{CtxSize: 2048}, {CtxSize: 512, KVCacheUsage: 0.5}}, cacheSummary{512, 5, 0.1}},
		{"failed model left out", []ModelInfo{{CtxSize: 512, KVCacheUsage: 1, Error: "device lost"}, {CtxSize: 256}},
			cacheSummary{256, 1, 0}},
		{"usage clamped", []ModelInfo{{CtxSize: 100, KVCacheUsage: 1.5}}, cacheSummary{100, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := summarizeCache(tc.models)
			if got.blockSize != tc.want.blockSize || got.blocks != tc.want.blocks ||
				got.utilization < tc.want.utilization-1e-9 || got.utilization > tc.want.utilization+1e-9 {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
