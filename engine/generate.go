// Generation: a request (chat messages, raw text or token ids) becomes
// prompt tokens, the prompt is prefilled in chunks, and tokens are sampled
// one at a time until an end-of-generation token, a stop string or the token
// limit. Each token's text goes through the streaming decoder (whole UTF-8
// characters only), the stop-string matcher (stop strings are never
// emitted) and, in chat mode, the chat output parser (reasoning, content and
// tool calls) before it reaches the caller's emit function.
//
// A Generator owns one Context and its scheduler (scheduler.go): each
// request is admitted into a sequence slot of the context's KV cache, and
// the forward passes of all running requests are batched into one per
// step. A request's own goroutine samples, matches, parses and emits.

package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/constrain"
	"github.com/helexa/helexa/tokenizer"
)

// ErrContextLength reports a request whose prompt plus requested tokens do
// not fit the context; the error is a *ContextLengthError.
var ErrContextLength = errors.New("engine: context length exceeded")

// ErrBadRequest reports a generation request that cannot run: no prompt, a
// token id outside the vocabulary, chat mode on a model without a usable
// chat template, a negative limit.
var ErrBadRequest = errors.New("engine: bad request")

// ContextLengthError says by how much a request misses the context.
type ContextLengthError struct {
	Prompt    int // prompt tokens
	Requested int // tokens to generate (max_tokens)
	Ctx       int // context size of the model's KV cache
}

func (e *ContextLengthError) Error() string {
	return fmt.Sprintf("engine: context length exceeded: %d prompt tokens + %d requested tokens > context size %d",
		e.Prompt, e.Requested, e.Ctx)
}

// Is makes errors.Is(err, ErrContextLength) hold.
func (e *ContextLengthError) Is(target error) bool { return target == ErrContextLength }

// Finish reasons of a Result (the OpenAI API's values).
const (
	FinishStop      = "stop"       // end-of-generation token or stop string
	FinishLength    = "length"     // MaxTokens reached
	FinishToolCalls = "tool_calls" // the model called a tool
)

// GenerateRequest is one generation. Exactly one of Chat, Prompt and Tokens
// is the prompt: Chat is rendered with the model's chat template, Prompt is
// tokenized as raw text, Tokens are used as they are.
type GenerateRequest struct {
	Chat   *chat.Request
	Prompt string
	Tokens []int32

	// MaxTokens limits the generated tokens; 0 means up to the end of the
	// context.
	MaxTokens int
	// Stop strings end generation; neither they nor anything after them is
	// returned.
	Stop []string
	// IgnoreEOS keeps generating through end-of-generation tokens.
	IgnoreEOS bool
	Sampling  SamplingParams
	// Logprobs asks for each generated token's log-probability, TopLogprobs
	// for that many alternatives per token as well (implies Logprobs).
	Logprobs    bool
	TopLogprobs int
	// JSON restricts the output (the content, in chat mode) to one JSON
	// object (OpenAI response_format json_object): only tokens that keep it
	// a valid prefix are drawn, and generation stops with FinishStop when
	// the object closes (FinishLength when MaxTokens comes first). In chat
	// mode a request that leaves EnableThinking nil runs with thinking off;
	// with thinking explicitly on, the reasoning is unconstrained and the
	// constraint starts after </think>. Special tokens (<tool_call>, ...)
	// cannot appear in the constrained part, so JSON mode makes no tool
	// calls; end-of-generation tokens are not drawn before the object
	// closes, whatever IgnoreEOS says.
	JSON bool
	// JSONSchema, when set, is response_format json_schema's schema: the
	// output (the content, in chat mode) is constrained to one JSON value
	// valid against it, as JSON constrains it to an object, with object
	// members in the order the schema lists them. A schema outside the
	// supported subset (package constrain) is ErrBadRequest naming the
	// keyword.
	JSONSchema []byte
	// ToolChoice "required" or a function name forces tool calls in chat
	// mode: the output is Qwen3 <tool_call> blocks calling the chat
	// request's tools (only the named one), each with arguments valid
	// against the function's parameters schema, and the finish reason is
	// tool_calls. "", "auto" and "none" leave the output free.
	ToolChoice string
	// SingleToolCall limits forced tool calls to one (OpenAI
	// parallel_tool_calls false).
	SingleToolCall bool
}

// chatRequest returns the chat request as rendered: constrained output
// (JSON, a schema, forced tool calls) turns thinking off unless the request
// turns it on.
func (req *GenerateRequest) chatRequest() chat.Request {
	cr := *req.Chat
	if req.constrained() && cr.EnableThinking == nil {
		off := false
		cr.EnableThinking = &off
	}
	return cr
}

// Event is what one step of generation releases to the caller. Text fields
// hold only new text. Tokens are the ids generated since the previous event;
// Logprobs, when requested, has one entry per id in Tokens.
type Event struct {
	Content   string
	Reasoning string
	ToolCalls []api.ToolCall
	Tokens    []int32
	Logprobs  []TokenLogprob
}

// Usage counts a request's tokens.
type Usage struct {
	PromptTokens int `json:"prompt_tokens"`
	// CachedTokens are the leading prompt tokens whose KV entries were
	// reused from the cache instead of computed.
	CachedTokens     int `json:"cached_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Timings measure a request. Prompt throughput covers prefill up to the
// first sampled token; generation throughput covers the tokens after the
// first (each needs one decode step) over the time from the first token to
// the last; TTFT runs from the start of Generate (template and tokenization
// included) to the first sampled token.
type Timings struct {
	PromptMS        float64 `json:"prompt_ms"`
	PromptTokPerSec float64 `json:"prompt_tok_s"`
	GenMS           float64 `json:"gen_ms"`
	GenTokPerSec    float64 `json:"gen_tok_s"`
	TTFTMS          float64 `json:"ttft_ms"`
}

// Result is a finished generation. Text is the generated text as decoded
// (stop string and anything after it removed, end-of-generation tokens not
// rendered); in chat mode Content, Reasoning and ToolCalls are its parsed
// parts, in raw mode Content equals Text.
type Result struct {
	Tokens       []int32
	Text         string
	Content      string
	Reasoning    string
	ToolCalls    []api.ToolCall
	Logprobs     []TokenLogprob
	FinishReason string
	Usage        Usage
	Timings      Timings
	// Seed is the seed of the sampler's random stream (the request's, or
	// the one drawn for it).
	Seed uint64
}

// Generator runs generation requests on a loaded model. It is safe for
// concurrent use; requests wait for a free sequence slot.
type Generator struct {
	model *Model
	ctx   *Context
	// pass runs the forward passes: ctx, or a scripted stand-in in tests.
	pass forwarder
	tok  *tokenizer.Tokenizer
	tmpl chat.Template // nil when the model's template is not supported
	// tmplErr says why tmpl is nil.
	tmplErr error

	nVocab int
	nCtx   int
	batch  int
	seqs   []*sequence // by slot
	sched  *scheduler
	// fwd serializes the use of the context and the model's backend
	// (forward passes, KV bookkeeping, embeddings).
	fwd sync.Mutex
	// failed holds why the model can no longer run (a fault in its file);
	// nil while it is healthy.
	failed atomic.Pointer[error]
	// maxTokenBytes is the longest text one token stands for, which bounds
	// how few tokens a prompt of n bytes can have (see promptBound.go).
	maxTokenBytes int
	// vocab holds the token bytes constraints check, built on first use.
	vocab     *constrain.Vocab
	vocabOnce sync.Once
}

// sequence is the per-slot state of one running request, allocated once per
// slot and reused.
type sequence struct {
	slot    int32
	sampler *Sampler
	logits  []float32 // [nVocab] logits of the last row
	rows    []Row     // [batch] rows being submitted
	// cached is how many leading prompt tokens were in the KV cache at
	// admission (not prefilled again).
	cached int
	// req is the sequence's submission to the scheduler and done its
	// answer; kept here so that a decode step allocates nothing.
	req  stepReq
	done chan struct{}
}

// forwarder is what generation needs from a Context.
type forwarder interface {
	Forward(rows []Row, logitRows []int, logits []float32) error
}

// NewGenerator wraps a model and a context made for it. tmpl may be nil for a
// model without a supported chat template (then chat requests fail with
// ErrBadRequest citing tmplErr).
func NewGenerator(m *Model, c *Context, tok *tokenizer.Tokenizer, tmpl chat.Template, tmplErr error) *Generator {
	o := c.Options()
	g := newGenerator(c, m.Config().NVocab, o, tok, tmpl, tmplErr)
	g.model, g.ctx = m, c
	return g
}

// newGenerator builds a generator over any forwarder with the given sizes.
func newGenerator(f forwarder, nVocab int, o ContextOptions, tok *tokenizer.Tokenizer, tmpl chat.Template, tmplErr error) *Generator {
	g := &Generator{
		pass: f, tok: tok, tmpl: tmpl, tmplErr: tmplErr,
		nVocab: nVocab, nCtx: o.Ctx, batch: o.Batch,
	}
	kv, ok := f.(kvLifecycle)
	if !ok {
		kv = slotKV{}
	}
	g.sched = newScheduler(f, kv, nVocab, o.Seqs, o.Batch, &g.fwd)
	if tok != nil {
		g.maxTokenBytes = longestToken(min(nVocab, tok.VocabSize()), tok.TokenBytes)
	}
	if g.tmpl == nil && g.tmplErr == nil {
		g.tmplErr = chat.ErrUnsupportedTemplate
	}
	for i := range o.Seqs {
		g.seqs = append(g.seqs, &sequence{slot: int32(i), done: make(chan struct{}, 1)})
	}
	return g
}

// Model returns the generator's model.
func (g *Generator) Model() *Model { return g.model }

// Context returns the generator's context.
func (g *Generator) Context() *Context { return g.ctx }

// Tokenizer returns the model's tokenizer.
func (g *Generator) Tokenizer() *tokenizer.Tokenizer { return g.tok }

// Template returns the model's chat template, nil if it has no supported one.
func (g *Generator) Template() chat.Template { return g.tmpl }

// CtxSize is the number of positions a sequence can hold.
func (g *Generator) CtxSize() int { return g.nCtx }

// PromptTokens returns the prompt ids of req: the rendered chat template,
// the tokenized text or the given ids (BOS prepended when the vocabulary
// asks for it, except for given ids).
func (g *Generator) PromptTokens(req *GenerateRequest) ([]int32, error) {
	return g.promptTokens(req, 0)
}

// promptTokens is PromptTokens that gives up with a *ContextLengthError
// once the prompt has more than limit tokens (limit > 0).
func (g *Generator) promptTokens(req *GenerateRequest, limit int) ([]int32, error) {
	n := 0
	if req.Chat != nil {
		n++
	}
	if req.Prompt != "" {
		n++
	}
	if len(req.Tokens) > 0 {
		n++
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: exactly one of chat messages, prompt text and prompt tokens must be given (got %d)", ErrBadRequest, n)
	}
	var text string
	switch {
	case len(req.Tokens) > 0:
		for i, id := range req.Tokens {
			if id < 0 || int(id) >= g.nVocab {
				return nil, fmt.Errorf("%w: prompt token %d (index %d) outside the vocabulary [0, %d)", ErrBadRequest, id, i, g.nVocab)
			}
		}
		return req.Tokens, nil
	case req.Chat != nil:
		if g.tmpl == nil {
			return nil, fmt.Errorf("%w: chat request: %w", ErrBadRequest, g.tmplErr)
		}
		var err error
		if text, err = g.tmpl.Render(req.chatRequest()); err != nil {
			return nil, fmt.Errorf("%w: chat template: %w", ErrBadRequest, err)
		}
	default:
		text = req.Prompt
	}
	if limit > 0 {
		if least := g.leastTokens(len(text)); least > limit {
			return nil, &ContextLengthError{Prompt: least, Requested: max(req.MaxTokens, 1), Ctx: g.nCtx}
		}
	}
	ids, over := g.tok.EncodeLimit(text, limit)
	if over {
		return nil, &ContextLengthError{Prompt: len(ids), Requested: max(req.MaxTokens, 1), Ctx: g.nCtx}
	}
	if bos, ok := g.tok.BOS(); ok && g.tok.AddBOS() {
		ids = append([]int32{bos}, ids...)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: the prompt is empty", ErrBadRequest)
	}
	return ids, nil
}

// checkLength returns the token limit of a request with nPrompt prompt
// tokens, or a *ContextLengthError.
func (g *Generator) checkLength(nPrompt, maxTokens int) (int, error) {
	if maxTokens < 0 {
		return 0, fmt.Errorf("%w: max tokens %d is negative", ErrBadRequest, maxTokens)
	}
	limit := maxTokens
	if limit == 0 {
		limit = g.nCtx - nPrompt
	}
	if limit <= 0 || nPrompt+limit > g.nCtx {
		return 0, &ContextLengthError{Prompt: nPrompt, Requested: max(maxTokens, 1), Ctx: g.nCtx}
	}
	return limit, nil
}

// forward has the scheduler compute rows of sequence s, with the logits of
// the last row into s.logits when wantLogits. A memory fault in the
// model's mapped file fails the generator for good.
func (g *Generator) forward(ctx context.Context, s *sequence, rows []Row, wantLogits bool) error {
	if err := g.Failed(); err != nil {
		return err
	}
	err := g.sched.step(ctx, s, rows, wantLogits)
	if errors.Is(err, ErrModelFault) {
		g.Fail(err)
		return g.Failed()
	}
	return err
}

// SetStepTokens sets the token budget of a scheduler step (prefill chunks
// share a step with the decode rows up to it); 0 keeps the default. Call it
// before the first request.
func (g *Generator) SetStepTokens(n int) {
	if n > 0 {
		g.sched.setBudget(n)
	}
}

// SetMaxQueue bounds the requests waiting for admission: beyond n a request
// fails at once with ErrQueueFull; n < 0 is unbounded (the default). Call
// it before the first request.
func (g *Generator) SetMaxQueue(n int) { g.sched.maxQueue = n }

// Stats returns the scheduler's counts.
func (g *Generator) Stats() SchedStats { return g.sched.stats() }

// KVStats returns the KV cache's block counts.
func (g *Generator) KVStats() KVStats { return g.sched.kv.KVStats() }

// Failed returns why the generator can no longer run (an error wrapping
// ErrModelFailed), or nil.
func (g *Generator) Failed() error {
	if p := g.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// Fail marks the generator failed for cause; every later generation is
// refused with an error wrapping ErrModelFailed and cause. The first cause
// is kept.
func (g *Generator) Fail(cause error) {
	err := fmt.Errorf("%w: %w; unload it and load it again", ErrModelFailed, cause)
	g.failed.CompareAndSwap(nil, &err)
}

// Generate runs req, calling emit with each piece of output as it is
// produced. emit's error stops generation and is returned. On cancellation
// (ctx), Generate returns the partial Result with ctx's error; ctx is
// checked before every prefill chunk and every token.
func (g *Generator) Generate(ctx context.Context, req GenerateRequest, emit func(Event) error) (*Result, error) {
	var each func(int, Event) error
	if emit != nil {
		each = func(_ int, ev Event) error { return emit(ev) }
	}
	res, err := g.GenerateChoices(ctx, req, 1, each)
	if len(res) == 0 {
		return nil, err
	}
	return res[0], err
}

// runChoice runs one choice of a request in slot s. shared carries the
// prompt's last logits between the choices of one request: the first
// choice prefills the prompt and fills it, later ones start from it (the
// prompt's KV entries stay in the slot, as decoding writes only positions
// after the prompt).
func (g *Generator) runChoice(ctx context.Context, s *sequence, req *GenerateRequest, prompt []int32, limit int,
	start time.Time, shared *promptLogits, m constrain.Matcher, emit func(Event) error) (*Result, error) {
	if s.sampler == nil {
		s.logits = make([]float32, g.nVocab)
		s.rows = make([]Row, g.batch)
		s.sampler = NewSampler(g.nVocab, g.nCtx, req.Sampling, req.TopLogprobs)
	} else {
		s.sampler.Reset(req.Sampling, req.TopLogprobs, g.nCtx)
	}
	if emit == nil {
		emit = func(Event) error { return nil }
	}
	r := &run{g: g, s: s, req: req, emit: emit, res: &Result{Seed: s.sampler.Seed()}, start: start, shared: shared, m: m}
	r.res.Usage.PromptTokens = len(prompt)
	err := r.loop(ctx, prompt, limit)
	r.res.Text = r.text.String() // also the partial text of a cancelled request
	r.res.Content = r.cont.String()
	r.res.Reasoning = r.reas.String()
	r.res.Usage.TotalTokens = r.res.Usage.PromptTokens + r.res.Usage.CompletionTokens
	return r.res, err
}

// run is the state of one choice of a Generate or GenerateChoices call.
type run struct {
	g     *Generator
	s     *sequence
	req   *GenerateRequest
	emit  func(Event) error
	res   *Result
	start time.Time

	dec    *tokenizer.StreamDecoder
	stop   *StopMatcher
	parser *chat.Parser
	text   strings.Builder
	cont   strings.Builder
	reas   strings.Builder

	emitted int            // tokens of res.Tokens already attached to an event
	pendLP  []TokenLogprob // log-probabilities of the tokens after emitted

	// shared is the prompt's logits once an earlier choice of the request
	// prefilled it (nil for a single choice).
	shared *promptLogits
	m      constrain.Matcher     // the output's language; nil when free
	con    *constrain.Constraint // m over tokens; nil when free
}

// loop prefills the prompt and decodes up to limit tokens.
func (r *run) loop(ctx context.Context, prompt []int32, limit int) error {
	g, s, req := r.g, r.s, r.req
	for _, t := range prompt {
		s.sampler.Accept(t)
	}
	r.dec = g.tok.NewDecoder()
	r.stop = NewStopMatcher(req.Stop)
	var popts chat.ParserOptions // zero (no reasoning) in raw mode
	if req.Chat != nil {
		// Chat output leaves out control tokens (<|im_end|> when EOS is
		// ignored, ...), as llama.cpp's server does; raw mode keeps them.
		r.dec.SkipControl(true)
		popts = chat.ParserOptionsFor(g.tmpl, req.chatRequest())
		// Forced calls are well-formed: their arguments can stream.
		popts.StreamArguments = req.forcesTools()
		r.parser = chat.NewParser(popts)
	}
	if r.m != nil {
		g.vocabOnce.Do(func() { g.vocab = NewVocab(g.tok, g.nVocab) })
		r.con = constrain.New(g.vocab, r.m, popts.Thinking)
	}
	wantLP := req.Logprobs || req.TopLogprobs > 0

	prefillStart := time.Now()
	if err := r.prefill(ctx, prompt); err != nil {
		return err
	}
	var firstTok time.Time
	pos := len(prompt)
	var lp TokenLogprob
	for n := 0; ; n++ {
		var lpp *TokenLogprob
		if wantLP {
			lpp = &lp
		}
		var tok int32
		if r.con == nil {
			tok = s.sampler.Sample(s.logits, lpp)
		} else {
			var ok bool
			if tok, ok = s.sampler.SampleAllowed(s.logits, lpp, r.con.Allowed); !ok {
				return errors.New("engine: constrained output: no token of the vocabulary continues the output")
			}
			r.con.Accept(tok)
		}
		s.sampler.Accept(tok)
		if n == 0 {
			firstTok = time.Now()
			r.res.Timings.TTFTMS = ms(firstTok.Sub(r.start))
			r.res.Timings.PromptMS = ms(firstTok.Sub(prefillStart))
		}
		r.res.Tokens = append(r.res.Tokens, tok)
		r.res.Usage.CompletionTokens++
		if wantLP {
			r.pendLP = append(r.pendLP, r.logprob(lpp))
		}
		finish := ""
		if !req.IgnoreEOS && g.tok.IsEOG(tok) {
			finish = FinishStop
		} else if stopped, err := r.feedText(r.dec.Add(tok)); err != nil {
			return err
		} else if stopped || (r.con != nil && r.con.Done()) {
			finish = FinishStop
		}
		if finish == "" && n+1 >= limit {
			finish = FinishLength
		}
		if finish != "" {
			if err := r.finish(finish); err != nil {
				return err
			}
			r.timings(firstTok, n)
			return nil
		}
		if err := ctx.Err(); err != nil {
			r.timings(firstTok, n)
			return err
		}
		s.rows[0] = Row{Token: tok, Pos: int32(pos), Seq: s.slot}
		pos++
		if err := g.forward(ctx, s, s.rows[:1], true); err != nil {
			return err
		}
	}
}

// prefill has the scheduler run the prompt past its cached prefix, with
// logits for the last row (the scheduler splits it into chunks of a step's
// budget), unless an earlier choice of the request did: then its KV
// entries are in the slot and its logits are copied. The prompt's blocks
// are then offered for reuse.
func (r *run) prefill(ctx context.Context, prompt []int32) error {
	g, s := r.g, r.s
	if r.shared != nil && r.shared.logits != nil {
		copy(s.logits, r.shared.logits)
		return nil
	}
	rest := prompt[s.cached:]
	rows := s.rows
	if len(rest) > len(rows) {
		rows = make([]Row, len(rest))
	}
	rows = rows[:len(rest)]
	for j, t := range rest {
		rows[j] = Row{Token: t, Pos: int32(s.cached + j), Seq: s.slot}
	}
	if err := g.forward(ctx, s, rows, true); err != nil {
		return err
	}
	g.sched.publish(s.slot, prompt)
	if r.shared != nil {
		r.shared.logits = append(r.shared.logits[:0], s.logits...)
	}
	return nil
}

// logprob completes a sampled token's log-probability with text and a copy
// of the alternatives (the sampler reuses its storage).
func (r *run) logprob(lp *TokenLogprob) TokenLogprob {
	out := TokenLogprob{Token: lp.Token, Text: r.g.tok.Decode([]int32{lp.Token}), Logprob: lp.Logprob}
	if len(lp.Top) > 0 {
		out.Top = make([]TopLogprob, len(lp.Top))
		for i, t := range lp.Top {
			out.Top[i] = TopLogprob{Token: t.Token, Text: r.g.tok.Decode([]int32{t.Token}), Logprob: t.Logprob}
		}
	}
	return out
}

// feedText passes newly decoded text through the stop matcher and the parser
// and emits what comes out. It reports whether a stop string matched.
func (r *run) feedText(piece string) (bool, error) {
	out, stopped := r.stop.Feed(piece)
	return stopped, r.output(out, false)
}

// output emits released text (parsed in chat mode), with the pending tokens.
// final flushes the parser and emits even when there is no text.
func (r *run) output(text string, final bool) error {
	r.text.WriteString(text)
	var raw [1]chat.Delta // raw mode's one delta, without a heap slice per token
	var deltas []chat.Delta
	if r.parser != nil {
		if text != "" {
			deltas = r.parser.Feed(text)
		}
		if final {
			deltas = append(deltas, r.parser.Finish()...)
		}
	} else if text != "" {
		raw[0].Content = text
		deltas = raw[:]
	}
	for _, d := range deltas {
		r.cont.WriteString(d.Content)
		r.reas.WriteString(d.Reasoning)
		r.res.ToolCalls = mergeToolCalls(r.res.ToolCalls, d.ToolCalls)
		ev := Event{Content: d.Content, Reasoning: d.Reasoning, ToolCalls: d.ToolCalls}
		r.attachPending(&ev)
		if err := r.emit(ev); err != nil {
			return err
		}
	}
	if final && r.emitted < len(r.res.Tokens) {
		var ev Event
		r.attachPending(&ev)
		return r.emit(ev)
	}
	return nil
}

// mergeToolCalls adds parsed calls to a result's: a call without a name
// is a fragment of the arguments of the call before it (streamed
// arguments).
func mergeToolCalls(into, calls []api.ToolCall) []api.ToolCall {
	for _, c := range calls {
		if n := len(into); c.Function.Name == "" && n > 0 {
			into[n-1].Function.Arguments += c.Function.Arguments
			continue
		}
		into = append(into, c)
	}
	return into
}

// attachPending moves the tokens generated since the last event into ev.
func (r *run) attachPending(ev *Event) {
	n := len(r.res.Tokens)
	if r.emitted == n {
		return
	}
	// A capped view of the result's tokens: no copy per event, and an
	// append by the receiver cannot overwrite later tokens.
	ev.Tokens = r.res.Tokens[r.emitted:n:n]
	r.emitted = n
	ev.Logprobs = r.pendLP
	r.res.Logprobs = append(r.res.Logprobs, r.pendLP...)
	r.pendLP = nil
}

// finish flushes the decoder, the matcher and the parser and fills in the
// result's text and finish reason.
func (r *run) finish(reason string) error {
	// Once a stop string matched, Feed and Flush return nothing.
	out, stopped := r.stop.Feed(r.dec.Flush())
	if !stopped {
		out += r.stop.Flush()
	}
	if err := r.output(out, true); err != nil {
		return err
	}
	if reason == FinishStop && r.parser != nil && r.parser.SawToolCall() {
		reason = FinishToolCalls
	}
	r.res.FinishReason = reason
	return nil
}

// timings fills the throughput figures after n+1 generated tokens.
func (r *run) timings(firstTok time.Time, n int) {
	t := &r.res.Timings
	if t.PromptMS > 0 {
		t.PromptTokPerSec = float64(r.res.Usage.PromptTokens) / (t.PromptMS / 1000)
	}
	t.GenMS = ms(time.Since(firstTok))
	if n > 0 && t.GenMS > 0 {
		t.GenTokPerSec = float64(n) / (t.GenMS / 1000)
	}
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
