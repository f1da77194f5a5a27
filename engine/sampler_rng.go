// The sampler's random number generator: xoshiro256** seeded through
// splitmix64, owned by each sequence so that the same seed and the same
// request draw the same numbers regardless of what other sequences do.

package engine

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/bits"
)

// rng is xoshiro256** (Blackman and Vigna, https://prng.di.unimi.it/), a
// small, fast generator with a 2^256-1 period. The zero value is invalid;
// seed it first.
type rng struct{ s [4]uint64 }

// seed fills the state from x with splitmix64, as the xoshiro authors
// recommend, so that nearby seeds give unrelated streams.
func (r *rng) seed(x uint64) {
	for i := range r.s {
		x += 0x9e3779b97f4a7c15 // splitmix64 increment (golden ratio · 2^64)
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		r.s[i] = z ^ (z >> 31)
	}
}

// next returns the next 64 random bits.
func (r *rng) next() uint64 {
	s := &r.s
	result := bits.RotateLeft64(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = bits.RotateLeft64(s[3], 45)
	return result
}

// float64 returns a uniform number in [0, 1) with 53 random bits.
func (r *rng) float64() float64 {
	return float64(r.next()>>11) * (1.0 / (1 << 53))
}

// randomSeed draws a seed from the operating system for requests that do not
// fix one.
func randomSeed() uint64 {
	var b [8]byte
	if _, err := crand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a constant keeps
		// generation going if it ever does.
		return 0x5eed
	}
	return binary.LittleEndian.Uint64(b[:])
}
