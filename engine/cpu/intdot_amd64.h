// Macros shared by the integer kernel files intdot_amd64.s and
// intdotk_amd64.s.

// REDUCE8(acc, out) sums the eight floats of acc and stores them at out.
#define REDUCE8(acc, xacc, out) \
	VEXTRACTF128 $1, acc, X7 \
	VADDPS       X7, xacc, xacc \
	VHADDPS      xacc, xacc, xacc \
	VHADDPS      xacc, xacc, xacc \
	MOVSS        xacc, out
