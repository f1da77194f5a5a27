// This file links the compute backends into the binary: each registers
// itself with the engine in init, so that one binary serves CPU hosts and
// GPU hosts (the CUDA driver is opened at run time; without one the "cuda"
// backend reports no device and "auto" falls back to the CPU).
package main

import (
	_ "github.com/helexa/helexa/engine/cpu"  // registers "cpu"
	_ "github.com/helexa/helexa/engine/cuda" // registers "cuda"
)
