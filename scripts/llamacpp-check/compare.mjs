// Cross-checks GGUF files against llama.cpp (the CPU build shipped by the
// npm package node-llama-cpp) and @huggingface/gguf.
//
// For each model file it reports whether @huggingface/gguf parses it (and
// its tensor table fits the file), whether llama.cpp loads it, llama.cpp's
// greedy tokens with their top-1/top-2 margins for a fixed prompt of token
// ids, and how they compare with either neuron (`neuron run --json` and
// `neuron logits`) or, with --expected DIR, with the reference JSON files of
// shared/reference/expected (a control that checks this harness itself).
//
// llama.cpp runs with 2 threads, context 1024, batch 1024 (the whole prompt
// in one decode), K and V cache in F32 and flash attention off, the settings
// of the reference data. node-llama-cpp exposes the next-token distribution
// as softmax probabilities, not raw logits, so logits are compared as
// log-softmax values: max |Δ| over all vocabulary rows of
// log p_llama - log_softmax(logits_other).
//
// Usage: node compare.mjs [--neuron BIN | --expected DIR] [--tokens 1,2,3]
//        [--gen 16] [--threads 2] [--json OUT] MODEL.gguf...
import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { gguf } from "@huggingface/gguf";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const args = process.argv.slice(2);
const opt = { neuron: "", expected: "", tokens: "", gen: 16, threads: 2, json: "" };
const models = [];
for (let i = 0; i < args.length; i++) {
	const a = args[i];
	if (a.startsWith("--")) {
		const k = a.slice(2);
		if (!(k in opt)) throw new Error(`unknown flag ${a}`);
		opt[k] = typeof opt[k] === "number" ? Number(args[++i]) : args[++i];
	} else models.push(a);
}
if (models.length === 0) {
	console.error("usage: node compare.mjs [--neuron BIN | --expected DIR] [--tokens ids] [--gen N] MODEL.gguf...");
	process.exit(2);
}

// Tolerances of shared/reference/README.md by general.file_type
// (llama_ftype): F32 1e-4, F16 5e-3, BF16 3e-2, quantized 0.15.
function tolerance(ftype) {
	switch (ftype) {
		case 0: return 1e-4;
		case 1: return 5e-3;
		case 32: return 3e-2;
		default: return 0.15;
	}
}

// Block size and bytes per block of the ggml types used here (ggml.c
// type_traits).
const typeSizes = {
	0: [1, 4], 1: [1, 2], 2: [32, 18], 8: [32, 34], 10: [256, 84], 11: [256, 110], 12: [256, 144],
	13: [256, 176], 14: [256, 210], 30: [1, 2],
};

// parseWithHF parses the file with @huggingface/gguf and checks that every
// tensor lies inside the file, aligned.
async function parseWithHF(path) {
	const { metadata, tensorInfos, tensorDataOffset } = await gguf(path, { allowLocalFile: true });
	const size = statSync(path).size;
	const align = Number(metadata["general.alignment"] ?? 32);
	let end = 0n;
	for (const t of tensorInfos) {
		const ts = typeSizes[t.dtype];
		if (!ts) throw new Error(`tensor ${t.name}: type ${t.dtype} not in the size table`);
		const n = t.shape.reduce((a, b) => a * BigInt(b), 1n);
		const bytes = (n / BigInt(ts[0])) * BigInt(ts[1]);
		if (t.offset % BigInt(align) !== 0n) throw new Error(`tensor ${t.name}: offset ${t.offset} not aligned to ${align}`);
		const e = tensorDataOffset + t.offset + bytes;
		if (e > end) end = e;
	}
	if (end > BigInt(size)) throw new Error(`tensor data ends at ${end}, file has ${size} bytes`);
	return { metadata, nTensors: tensorInfos.length };
}

// defaultPrompts returns three fixed prompts of 5, 40 and 200 token ids
// below 2048 (valid in every Qwen3 vocabulary, the 2112-row mini one
// included), drawn with a 32-bit LCG (Numerical Recipes constants) from
// seed 4242.
function defaultPrompts() {
	let x = 4242;
	const next = () => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x >>> 21; };
	return [5, 40, 200].map((n) => Array.from({ length: n }, next));
}

// tokenizerCases are texts whose tokenization is compared: plain words,
// punctuation, digits, whitespace runs, non-ASCII text and the Qwen3
// special and added tokens.
const tokenizerCases = [
	"Hello, world!",
	"the quick brown fox jumps over the lazy dog",
	"<|im_start|>user\nWhat is 12345 + 678?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
	"  two spaces,\ttab and\n\nnewlines   ",
	"caf\u00e9 na\u00efve \u6f22\u5b57 \ud83d\ude00",
	"<tool_call>{\"name\": \"f\"}</tool_call><|endoftext|>",
	"don't I'll we're it's",
];

// compareTokenizer tokenizes texts with llama.cpp (special tokens parsed,
// no BOS) and with the other side; it returns how many agree and the
// first text that differs.
async function compareTokenizer(model, texts, other) {
	let agreed = 0, first = "";
	for (let i = 0; i < texts.length; i++) {
		const a = Array.from(model.tokenize(texts[i], true));
		const b = await other(texts[i], i);
		if (a.length === b.length && a.every((v, j) => v === b[j])) agreed++;
		else if (!first) first = `${JSON.stringify(texts[i])}: llama.cpp ${JSON.stringify(a)} other ${JSON.stringify(b)}`;
	}
	return { agreed, n: texts.length, first };
}

// logSoftmax returns log-softmax of a numeric array, in float64.
function logSoftmax(x) {
	let m = -Infinity;
	for (const v of x) if (v > m) m = v;
	let s = 0;
	for (const v of x) s += Math.exp(v - m);
	const lse = m + Math.log(s);
	return x.map((v) => v - lse);
}

// llamaRun evaluates prompt and gen greedy steps; it returns per step the
// chosen token, the top-1/top-2 margin and (step 0 only) the log
// probabilities of all rows.
async function llamaRun(model, prompt, gen) {
	const ctx = await model.createContext({
		contextSize: 1024, batchSize: 1024, threads: opt.threads, flashAttention: false,
		experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
	});
	try {
		const seq = ctx.getSequence();
		const tokens = [], margins = [];
		let logp0 = null;
		for await (const out of seq.evaluateWithMetadata(prompt, { probabilities: true }, { temperature: 0 })) {
			const p = out.probabilities;
			let a = -Infinity, b = -Infinity;
			for (const v of p.values()) {
				if (v > a) { b = a; a = v; } else if (v > b) b = v;
			}
			margins.push(Math.log(a) - Math.log(b));
			if (tokens.length === 0) {
				logp0 = new Float64Array(p.size).fill(-Infinity);
				for (const [id, v] of p) logp0[id] = Math.log(v);
			}
			tokens.push(out.token);
			if (tokens.length >= gen) break;
		}
		return { tokens, margins, logp0 };
	} finally {
		await ctx.dispose();
	}
}

// compareGreedy counts the steps where both sequences agree, up to the
// first step whose llama.cpp margin is below tol (a near-tie, where a
// correct engine may pick the other token). It returns "agreed/comparable".
function compareGreedy(ref, got, margins, tol) {
	let comparable = 0;
	while (comparable < ref.length && margins[comparable] >= tol) comparable++;
	let agreed = 0;
	while (agreed < comparable && ref[agreed] === got[agreed]) agreed++;
	let same = 0;
	while (same < Math.min(ref.length, got.length) && ref[same] === got[same]) same++;
	return { agreed, comparable, same, ok: agreed === comparable };
}

// diffStats returns the largest and the root-mean-square |Δ| between two
// log-softmax vectors, skipping rows whose llama.cpp probability
// underflowed to 0.
function diffStats(logp, other) {
	let m = 0, ss = 0, n = 0;
	for (let i = 0; i < logp.length; i++) {
		if (!Number.isFinite(logp[i])) continue;
		const d = Math.abs(logp[i] - other[i]);
		m = Math.max(m, d);
		ss += d * d;
		n++;
	}
	return { max: m, rms: Math.sqrt(ss / n) };
}

const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error, build: "never" });
const rows = [];
const prompts = opt.expected
	? JSON.parse(readFileSync(`${opt.expected}/prompts.json`, "utf8"))
	: null;
for (const path of models) {
	const row = { model: basename(path), hf: "", loads: "", results: [] };
	rows.push(row);
	let meta;
	try {
		meta = await parseWithHF(path);
		row.hf = "ok";
	} catch (e) {
		row.hf = `error: ${e.message}`;
	}
	let model;
	try {
		model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
		row.loads = "ok";
	} catch (e) {
		row.loads = `error: ${e.message}`;
		continue;
	}
	try {
		const ftype = Number(meta?.metadata["general.file_type"] ?? model.fileInfo.metadata.general.file_type);
		const tol = tolerance(ftype);
		row.tol = tol;
		let cases;
		if (opt.expected) {
			const exp = JSON.parse(readFileSync(`${opt.expected}/${basename(path, ".gguf")}.json`, "utf8"));
			cases = exp.prompts.map((prompt, p) => ({
				prompt, gen: exp.greedy[p].length,
				refGreedy: exp.greedy[p], refMargins: exp.greedy_margins[p],
				refLogits: exp.last_logits[p],
			}));
		} else {
			const ps = opt.tokens ? [opt.tokens.split(",").map(Number)] : defaultPrompts();
			cases = ps.map((prompt) => ({ prompt, gen: opt.gen }));
		}
		if (opt.expected) {
			const tc = JSON.parse(readFileSync(`${opt.expected}/mini-tokenizer-cases.json`, "utf8")).cases;
			row.tok = await compareTokenizer(model, tc.map((c) => c.text), (_, i) => tc[i].ids);
		} else {
			row.tok = await compareTokenizer(model, tokenizerCases, (text) =>
				JSON.parse(execFileSync(opt.neuron, ["tokenize", "--model", path, "--json", text],
					{ stdio: ["ignore", "pipe", "ignore"] }).toString()).ids);
		}
		for (const c of cases) {
			const t0 = Date.now();
			const r = await llamaRun(model, c.prompt, c.gen);
			const res = { promptLen: c.prompt.length, llamaGreedy: r.tokens, llamaMargins: r.margins, llamaMs: Date.now() - t0 };
			let otherGreedy, otherLogits, margins = r.margins;
			if (opt.expected) {
				otherGreedy = c.refGreedy;
				otherLogits = c.refLogits;
				margins = c.refMargins; // near-ties as the reference saw them
			} else {
				const ids = c.prompt.join(",");
				const run = JSON.parse(execFileSync(opt.neuron, ["run", path, "--tokens", ids, "--temp", "0",
					"--max-tokens", String(c.gen), "--ignore-eos", "--json", "--threads", String(opt.threads),
					"--device", "cpu"], { maxBuffer: 1 << 26, stdio: ["ignore", "pipe", "ignore"] }).toString());
				otherGreedy = run.tokens;
				const lg = JSON.parse(execFileSync(opt.neuron, ["logits", path, "--tokens", ids,
					"--threads", String(opt.threads)], { maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "ignore"] }).toString());
				otherLogits = lg.logits[0];
				res.otherGreedy = otherGreedy;
			}
			res.greedy = compareGreedy(otherGreedy, r.tokens, margins, tol);
			const st = diffStats(r.logp0, logSoftmax(otherLogits));
			res.maxDelta = st.max;
			res.rmsDelta = st.rms;
			res.ok = res.greedy.ok && res.maxDelta <= tol;
			row.results.push(res);
		}
	} catch (e) {
		row.error = e.message;
	} finally {
		await model.dispose();
	}
}

console.log(`llama.cpp ${llama.llamaCppRelease.release} (node-llama-cpp, CPU build, KV cache F32, ${opt.threads} threads); compared with ${opt.expected ? "reference JSON in " + opt.expected : "neuron " + opt.neuron}`);
console.log("| model | gguf.js | llama.cpp loads | tokenizer | tol | greedy agreed/comparable (identical prefix) | max abs dlogit, log-softmax (rms) | ok |");
console.log("|---|---|---|---|---:|---|---:|---|");
let bad = 0;
for (const r of rows) {
	if (r.results.length === 0) {
		bad++;
		console.log(`| ${r.model} | ${r.hf} | ${r.loads} | | | | | ${r.error ? "error: " + r.error : "FAIL"} |`);
		continue;
	}
	const g = r.results.map((x) => `${x.greedy.agreed}/${x.greedy.comparable} (${x.greedy.same})`).join(" ");
	const d = r.results.map((x) => `${x.maxDelta.toExponential(2)} (${x.rmsDelta.toExponential(1)})`).join(" ");
	const ok = r.hf === "ok" && !r.error && r.tok.agreed === r.tok.n && r.results.every((x) => x.ok);
	if (!ok) bad++;
	console.log(`| ${r.model} | ${r.hf} | ${r.loads} | ${r.tok.agreed}/${r.tok.n} | ${r.tol} | ${g} | ${d} | ${ok ? "yes" : "NO" + (r.error ? ": " + r.error : "")} |`);
}
for (const r of rows) if (r.tok?.first) console.log(`${r.model}: tokenizer differs: ${r.tok.first}`);
if (opt.json) writeFileSync(opt.json, JSON.stringify(rows, null, 1));
await llama.dispose();
process.exit(bad ? 1 : 0);
