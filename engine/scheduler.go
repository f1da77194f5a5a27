// This file holds the scheduler of a Generator: the one place that admits
// sequences, limits how many run, and runs the forward passes of all of
// them. Each running sequence is a request's goroutine that samples,
// matches stop strings, parses and emits on its own (generate.go), and
// submits the rows it needs computed — its prompt, then one row per
// token — to the scheduler. The scheduler's step loop gathers the
// submissions of every running sequence into one Forward call per step: a
// decode row for each sequence that is generating, then chunks of the
// prompts being prefilled up to the step's token budget, so that running
// streams keep flowing while a long prompt is read. New sequences join
// between steps; a sequence that ends leaves at once and frees its KV
// blocks.
//
// Admission is FIFO: a request takes a sequence slot and reserves the KV
// positions its prompt and token limit can fill (Context.Reserve), so it
// never runs out of cache mid-generation; while the cache cannot promise
// them, it waits. The prompt's cached prefix (Context.ReusePrefix) is not
// prefilled again.
//
// The step loop is a goroutine that runs while sequences are admitted and
// ends when every one has left, so an idle model holds no goroutine.

package engine

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// ErrQueueFull reports a request refused because the model's admission
// queue is full.
var ErrQueueFull = errors.New("engine: queue full")

// Scheduler defaults.
const (
	// DefaultStepTokens is the default token budget of a step: prefill
	// chunks fill a step up to it. A CPU step of 128 prompt rows takes a
	// fraction of a second on a small model, which bounds the pause a long
	// prompt puts into the running streams.
	DefaultStepTokens = 128
	// gatherWait bounds how long a step waits for running sequences that
	// have not yet submitted their next row (they are sampling or
	// emitting): waiting batches them into the step, not waiting would
	// read every weight again for them in the next one.
	gatherWait = 5 * time.Millisecond
)

// kvLifecycle is the KV-cache side of admission (kvseq.go), implemented by
// Context; generators over a scripted forwarder use slotKV.
type kvLifecycle interface {
	ReusePrefix(seq int32, tokens []int32) int
	Reserve(seq int32, n int) error
	Publish(seq int32, tokens []int32)
	Release(seq int32)
	KVStats() KVStats
}

// slotKV is the KV lifecycle of a forwarder without a cache of its own:
// every reservation fits, nothing is reused.
type slotKV struct{}

func (slotKV) ReusePrefix(int32, []int32) int { return 0 }
func (slotKV) Reserve(int32, int) error       { return nil }
func (slotKV) Publish(int32, []int32)         {}
func (slotKV) Release(int32)                  {}
func (slotKV) KVStats() KVStats               { return KVStats{} }

// SchedStats are a scheduler's counts at one moment.
type SchedStats struct {
	Slots   int // sequences that may run at once
	Running int // sequences admitted
	Waiting int // requests waiting for admission
	Steps   int64
	// StepRows counts the rows of all steps (Rows/Steps is the mean batch).
	StepRows int64
}

// scheduler admits the sequences of one generator and runs their steps.
type scheduler struct {
	pass   forwarder
	kv     kvLifecycle
	nVocab int
	// budget is the rows of one step; cap is the Context's batch size.
	budget, cap int
	// fwd serializes Forward and the KV lifecycle calls (and embeddings,
	// which use the model's backend): none is safe for concurrent use.
	fwd *sync.Mutex

	mu       sync.Mutex
	free     []int32   // free sequence slots
	waiters  list.List // of *admission, FIFO
	maxQueue int       // most waiters; < 0: unbounded
	running  int       // admitted sequences
	pending  []*stepReq
	looping  bool          // the step loop runs
	wake     chan struct{} // cap 1: a submission arrived
	steps    int64
	stepRows int64

	// Step scratch, used by the loop goroutine only.
	rows      []Row
	logitRows []int
	logits    []float32 // [slots, nVocab]
	inStep    []stepPart
}

// stepReq is a sequence's submission: rows to compute, logits of the last
// one wanted or not. The scheduler consumes rows from the front, a step's
// budget at a time, and answers on done once all are computed.
type stepReq struct {
	ctx  context.Context
	s    *sequence
	rows []Row
	want bool
	err  error
	// taken is the rows the step being planned takes from rows.
	taken int
}

// stepPart is one submission's share in a step (r.taken rows).
type stepPart struct {
	r        *stepReq
	logitRow int // index into the step's logit rows, -1 for none
}

// admission is a request waiting for a slot.
type admission struct {
	prompt []int32
	need   int // KV positions to reserve
	ready  chan admitted
}

// admitted is the answer to an admission: a slot and the prompt tokens
// found in the cache, or why the request can never be admitted.
type admitted struct {
	slot   int32
	cached int
	err    error
}

func newScheduler(pass forwarder, kv kvLifecycle, nVocab, slots, batch int, fwd *sync.Mutex) *scheduler {
	s := &scheduler{
		pass: pass, kv: kv, nVocab: nVocab, cap: batch, fwd: fwd, maxQueue: -1,
		wake:   make(chan struct{}, 1),
		logits: make([]float32, slots*nVocab),
	}
	s.setBudget(DefaultStepTokens)
	for i := slots - 1; i >= 0; i-- {
		s.free = append(s.free, int32(i))
	}
	return s
}

// setBudget sets the rows of a step: at least one per slot (every running
// sequence decodes in every step), at most the batch size.
func (s *scheduler) setBudget(n int) {
	slots := len(s.logits) / s.nVocab
	s.budget = min(max(n, slots, 1), s.cap)
}

// admit waits for a free slot and a KV reservation of need positions for
// prompt, FIFO, and returns the slot and how many leading prompt tokens
// are already in the cache. ctx ending gives up the wait.
func (s *scheduler) admit(ctx context.Context, prompt []int32, need int) (int32, int, error) {
	s.mu.Lock()
	if s.waiters.Len() == 0 {
		if a, ok := s.tryAdmitLocked(prompt, need); ok {
			s.mu.Unlock()
			return a.slot, a.cached, a.err
		}
	}
	if s.maxQueue >= 0 && s.waiters.Len() >= s.maxQueue {
		s.mu.Unlock()
		return 0, 0, ErrQueueFull
	}
	w := &admission{prompt: prompt, need: need, ready: make(chan admitted, 1)}
	e := s.waiters.PushBack(w)
	s.mu.Unlock()
	select {
	case a := <-w.ready:
		return a.slot, a.cached, a.err
	case <-ctx.Done():
		s.mu.Lock()
		select {
		case a := <-w.ready: // admitted while giving up: hand it back
			s.mu.Unlock()
			if a.err == nil {
				s.leave(a.slot, nil)
			}
		default:
			s.waiters.Remove(e)
			s.mu.Unlock()
		}
		return 0, 0, ctx.Err()
	}
}

// tryAdmitLocked takes a slot, maps the cached prefix of prompt into it and
// reserves need positions, if a slot is free and the cache can promise
// them now; ok is false when the request must wait. An error other than
// ErrKVFull ends the admission (ok true, a.err set). s.mu is held.
func (s *scheduler) tryAdmitLocked(prompt []int32, need int) (a admitted, ok bool) {
	if len(s.free) == 0 {
		return a, false
	}
	slot := s.free[len(s.free)-1]
	s.fwd.Lock()
	cached := s.kv.ReusePrefix(slot, prompt)
	err := s.kv.Reserve(slot, need)
	if err != nil {
		s.kv.Release(slot)
	}
	s.fwd.Unlock()
	switch {
	case errors.Is(err, ErrKVFull):
		return a, false
	case err != nil:
		return admitted{err: err}, true
	}
	s.free = s.free[:len(s.free)-1]
	s.running++
	return admitted{slot: slot, cached: cached}, true
}

// publish offers the KV blocks of tokens in slot to later prompts.
func (s *scheduler) publish(slot int32, tokens []int32) {
	s.fwd.Lock()
	defer s.fwd.Unlock()
	s.kv.Publish(slot, tokens)
}

// leave ends the sequence in slot: tokens (those whose KV entries are in
// the cache, nil for none) are published, the slot's blocks released, and
// waiters admitted in order while their reservations fit.
func (s *scheduler) leave(slot int32, tokens []int32) {
	s.fwd.Lock()
	if len(tokens) > 0 {
		s.kv.Publish(slot, tokens)
	}
	s.kv.Release(slot)
	s.fwd.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free = append(s.free, slot)
	s.running--
	for s.waiters.Len() > 0 {
		w := s.waiters.Front().Value.(*admission)
		a, ok := s.tryAdmitLocked(w.prompt, w.need)
		if !ok {
			break
		}
		s.waiters.Remove(s.waiters.Front())
		w.ready <- a
	}
	s.poke()
}

// stats returns the scheduler's counts.
func (s *scheduler) stats() SchedStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SchedStats{Slots: len(s.logits) / s.nVocab, Running: s.running, Waiting: s.waiters.Len(),
		Steps: s.steps, StepRows: s.stepRows}
}

// step submits rows of sequence q (logits of the last one into q.logits
// when want) and waits until they are computed. A prompt's rows may take
// several steps; ctx is checked before each of its chunks.
func (s *scheduler) step(ctx context.Context, q *sequence, rows []Row, want bool) error {
	r := &q.req
	*r = stepReq{ctx: ctx, s: q, rows: rows, want: want}
	s.mu.Lock()
	s.pending = append(s.pending, r)
	if !s.looping {
		s.looping = true
		go s.loop()
	}
	s.poke()
	s.mu.Unlock()
	<-q.done
	return r.err
}

// poke wakes the step loop; s.mu is held.
func (s *scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loop runs steps while sequences are admitted and ends when none is.
func (s *scheduler) loop() {
	var timer *time.Timer
	for {
		s.mu.Lock()
		if len(s.pending) == 0 {
			if s.running == 0 {
				s.looping = false
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
			<-s.wake // a submission, or a sequence left
			continue
		}
		// Wait briefly for the running sequences that have not yet
		// submitted, so that they share this step.
		if len(s.pending) < s.running {
			s.mu.Unlock()
			if timer == nil {
				timer = time.NewTimer(gatherWait)
			} else {
				timer.Reset(gatherWait)
			}
		gather:
			for {
				select {
				case <-s.wake:
					s.mu.Lock()
					all := len(s.pending) >= s.running
					s.mu.Unlock()
					if all {
						break gather
					}
				case <-timer.C:
					break gather
				}
			}
			timer.Stop()
			s.mu.Lock()
		}
		parts := s.plan()
		s.mu.Unlock()
		s.run(parts)
	}
}

// plan picks the rows of the next step from the pending submissions: one
// decode row per generating sequence first, then prompt chunks in
// submission order up to the budget (the batch size when no sequence
// decodes). Cancelled prompts are answered at once. s.mu is held.
func (s *scheduler) plan() []stepPart {
	parts := s.inStep[:0]
	s.rows, s.logitRows = s.rows[:0], s.logitRows[:0]
	take := func(r *stepReq, n int) {
		r.taken = n
		p := stepPart{r: r, logitRow: -1}
		s.rows = append(s.rows, r.rows[:n]...)
		if n == len(r.rows) && r.want {
			p.logitRow = len(s.logitRows)
			s.logitRows = append(s.logitRows, len(s.rows)-1)
		}
		parts = append(parts, p)
	}
	kept := s.pending[:0] // the prompts; compacted in place
	for _, r := range s.pending {
		r.taken = 0
		if len(r.rows) == 1 {
			take(r, 1)
			continue
		}
		kept = append(kept, r)
	}
	// The budget keeps running streams flowing; with none decoding, a
	// prompt takes whole batches.
	budget := s.budget
	if len(s.rows) == 0 {
		budget = s.cap
	}
	for _, r := range kept {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			parts = append(parts, stepPart{r: r, logitRow: -1})
			continue
		}
		if room := budget - len(s.rows); room > 0 {
			take(r, min(room, len(r.rows)))
		}
	}
	// What stays pending, in order: prompts this step does not finish.
	n := 0
	for _, r := range kept {
		if r.err == nil && r.taken < len(r.rows) {
			kept[n] = r
			n++
		}
	}
	s.pending = kept[:n]
	s.steps++
	s.stepRows += int64(len(s.rows))
	s.inStep = parts
	return parts
}

// run computes a planned step and answers the submissions it finished.
func (s *scheduler) run(parts []stepPart) {
	var err error
	if len(s.rows) > 0 {
		s.fwd.Lock()
		err = guardFaults(func() error {
			nl := len(s.logitRows)
			if nl == 0 {
				return s.pass.Forward(s.rows, nil, nil)
			}
			return s.pass.Forward(s.rows, s.logitRows, s.logits[:nl*s.nVocab])
		})
		s.fwd.Unlock()
	}
	for _, p := range parts {
		r := p.r
		if r.err == nil && err != nil {
			r.err = err
		}
		if r.err == nil {
			if p.logitRow >= 0 {
				copy(r.s.logits, s.logits[p.logitRow*s.nVocab:(p.logitRow+1)*s.nVocab])
			}
			r.rows = r.rows[r.taken:]
			if len(r.rows) > 0 {
				continue // more prompt in later steps
			}
		}
		if r.err != nil {
			s.mu.Lock()
			s.drop(r)
			s.mu.Unlock()
		}
		r.s.done <- struct{}{}
	}
}

// drop removes r from the pending submissions; s.mu is held.
func (s *scheduler) drop(r *stepReq) {
	for i, q := range s.pending {
		if q == r {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return
		}
	}
}
