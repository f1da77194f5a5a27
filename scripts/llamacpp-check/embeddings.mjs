// Cross-checks neuron's embeddings against llama.cpp's (the CPU build shipped
// by the npm package node-llama-cpp). For each model file it starts
// `neuron serve` on a loopback port, asks POST /v1/embeddings for a batch of
// fixed token-id inputs (one request, so several inputs share forward
// calls), computes each input's embedding with node-llama-cpp's embedding
// context (llama.cpp's result_norm of the last token when the model has no
// pooling type, else its pooled sequence embedding), and reports the
// cosine of the two vectors per input. neuron's vectors are L2-normalized
// and llama.cpp's raw, so only the direction is compared.
//
// Usage: node embeddings.mjs --neuron BIN [--threads 2] [--json OUT] MODEL.gguf...
// The exit status is non-zero when a cosine is below the file type's bound
// (f32 0.9999, f16/bf16 0.999, quantized 0.99).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const args = process.argv.slice(2);
const opt = { neuron: "", threads: 2, json: "" };
const models = [];
for (let i = 0; i < args.length; i++) {
	const a = args[i];
	if (a.startsWith("--")) {
		const k = a.slice(2);
		if (!(k in opt)) throw new Error(`unknown flag ${a}`);
		opt[k] = typeof opt[k] === "number" ? Number(args[++i]) : args[++i];
	} else models.push(a);
}
if (!opt.neuron || models.length === 0) {
	console.error("usage: node embeddings.mjs --neuron BIN [--threads N] [--json OUT] MODEL.gguf...");
	process.exit(2);
}

// Inputs: token ids below 100, which every synthetic and reference
// vocabulary has; lengths 1 to 40.
const inputs = [[17], [11, 22, 33, 44, 55], [60, 61, 62, 63, 64, 65, 66, 67], Array.from({ length: 40 }, (_, i) => 10 + (i * 7) % 80), [5, 5, 5]];

const bounds = { f32: 0.9999, f16: 0.999, bf16: 0.999 };
function bound(name) {
	for (const [t, b] of Object.entries(bounds)) if (name.includes(`-${t}`)) return b;
	return 0.99;
}

function cosine(a, b) {
	let ab = 0, aa = 0, bb = 0;
	for (let i = 0; i < a.length; i++) {
		ab += a[i] * b[i];
		aa += a[i] * a[i];
		bb += b[i] * b[i];
	}
	return ab / Math.sqrt(aa * bb);
}

// neuronEmbeddings serves the model with neuron on a free loopback port
// (read from its "neuron listening" log line) and returns its vectors.
async function neuronEmbeddings(path) {
	const proc = spawn(opt.neuron, ["serve", "--listen", "127.0.0.1:0", "--device", "cpu", "--threads", String(opt.threads),
		"--ctx-size", "512", "--hub-offline", "--model", path, "--log-format", "json"], { stdio: ["ignore", "ignore", "pipe"] });
	const exited = new Promise((r) => proc.once("exit", r));
	try {
		const base = await new Promise((resolve, reject) => {
			let buf = "";
			proc.stderr.on("data", (d) => {
				buf += d;
				for (let nl; (nl = buf.indexOf("\n")) >= 0; buf = buf.slice(nl + 1)) {
					try {
						const rec = JSON.parse(buf.slice(0, nl));
						if (rec.msg === "neuron listening") resolve(`http://${rec.addr}`);
					} catch (_) { /* not a JSON line */ }
				}
			});
			exited.then(() => reject(new Error("neuron exited before listening")));
		});
		const models = await (await fetch(`${base}/v1/models`)).json();
		const resp = await fetch(`${base}/v1/embeddings`, {
			method: "POST", headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ model: models.data[0].id, input: inputs }),
		});
		const body = await resp.json();
		if (!resp.ok) throw new Error(JSON.stringify(body));
		return body.data.map((d) => d.embedding);
	} finally {
		proc.kill("SIGTERM");
		await exited;
	}
}

const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error, build: "never" });
const rows = [];
let failed = false;
for (const path of models) {
	const row = { model: basename(path), bound: bound(basename(path)), cosines: [], error: "" };
	try {
		const ours = await neuronEmbeddings(path);
		const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
		const ctx = await model.createEmbeddingContext({ contextSize: 512, batchSize: 512, threads: opt.threads });
		for (let i = 0; i < inputs.length; i++) {
			const theirs = (await ctx.getEmbeddingFor(inputs[i])).vector;
			if (theirs.length !== ours[i].length) throw new Error(`input ${i}: ${theirs.length} vs ${ours[i].length} dimensions`);
			row.cosines.push(cosine(ours[i], theirs));
		}
		await ctx.dispose();
		await model.dispose();
	} catch (err) {
		row.error = String(err.message || err);
	}
	row.min = row.cosines.length ? Math.min(...row.cosines) : NaN;
	row.ok = !row.error && row.min >= row.bound;
	failed ||= !row.ok;
	rows.push(row);
}

console.log("model                         inputs  min cosine   bound    ok");
for (const r of rows) {
	console.log(`${r.model.padEnd(30)}${String(r.cosines.length).padStart(6)}  ${r.min.toFixed(7).padStart(10)}  ${String(r.bound).padStart(6)}  ${r.ok ? "yes" : "NO " + r.error}`);
}
if (opt.json) writeFileSync(opt.json, JSON.stringify(rows, null, 2));
process.exit(failed ? 1 : 0);
