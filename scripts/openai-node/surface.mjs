// Embeddings and several choices per request through the official OpenAI
// Node SDK: node surface.mjs BASE_URL MODEL LOGIT_BIAS_JSON. Makes the calls
// and prints what came back as one JSON object on stdout; the Go test that
// runs it (cmd/neuron TestOpenAINodeSDKSurface) checks it. The SDK asks for
// embeddings as base64 unless told otherwise and decodes them itself, so
// both encodings are exercised.
import OpenAI from "openai";

const [base, model, biasText] = process.argv.slice(2);
const client = new OpenAI({ baseURL: base, apiKey: "unused", maxRetries: 0 });
const out = {};

// Embeddings: a batch (base64 by the SDK's default), one text as floats,
// and 32 dimensions.
const texts = ["The sky is blue.", "Sunsets are red."];
const batch = await client.embeddings.create({ model, input: texts });
out.batch = { vectors: batch.data.map((d) => d.embedding), indexes: batch.data.map((d) => d.index), usage: batch.usage };
const alone = await client.embeddings.create({ model, input: texts[1], encoding_format: "float" });
out.alone = { vector: alone.data[0].embedding, usage: alone.usage };
const short = await client.embeddings.create({ model, input: texts[1], dimensions: 32 });
out.short = { vector: short.data[0].embedding };

// n=3 with a seed, whole and streamed, and each choice's seed alone.
const ask = {
  model, messages: [{ role: "user", content: "Name three colours." }], max_tokens: 8, temperature: 1.2, seed: 7,
  logit_bias: JSON.parse(biasText), reasoning_effort: "none",
};
const three = await client.chat.completions.create({ ...ask, n: 3 });
out.choices = three.choices.map((c) => ({ index: c.index, content: c.message.content, finish: c.finish_reason }));
out.usage = three.usage;
const streamed = ["", "", ""];
const finishes = ["", "", ""];
for await (const chunk of await client.chat.completions.create({ ...ask, n: 3, stream: true })) {
  for (const c of chunk.choices) {
    streamed[c.index] += c.delta?.content ?? "";
    if (c.finish_reason) finishes[c.index] = c.finish_reason;
  }
}
out.streamed = streamed.map((content, i) => ({ content, finish: finishes[i] }));
out.singles = [];
for (let i = 0; i < 3; i++) {
  const one = await client.chat.completions.create({ ...ask, seed: ask.seed + i });
  out.singles.push(one.choices[0].message.content);
}
process.stdout.write(JSON.stringify(out));
