// Structured outputs and forced tool calls through the official OpenAI
// Node SDK: node check.mjs BASE_URL MODEL SCHEMA_JSON PARAMS_JSON. Makes the
// calls and prints what came back as one JSON object on stdout; the Go test
// that runs it (cmd/neuron TestOpenAINodeSDK) validates the outputs.
import OpenAI from "openai";

const [base, model, schemaText, paramsText] = process.argv.slice(2);
const client = new OpenAI({ baseURL: base, apiKey: "unused", maxRetries: 0 });
const schema = JSON.parse(schemaText);
const params = JSON.parse(paramsText);
const out = {};

const format = { type: "json_schema", json_schema: { name: "weather", strict: true, schema } };
const ask = [{ role: "user", content: "What is the weather in Paris? Answer in JSON." }];

// json_schema, whole and streamed.
const cc = await client.chat.completions.create({
  model, messages: ask, response_format: format, max_tokens: 400, temperature: 1, seed: 5,
});
out.schema = { content: cc.choices[0].message.content, finish: cc.choices[0].finish_reason };

let streamed = "";
let streamFinish = "";
for await (const chunk of await client.chat.completions.create({
  model, messages: ask, response_format: format, max_tokens: 400, temperature: 1, seed: 5, stream: true,
})) {
  for (const ch of chunk.choices) {
    streamed += ch.delta?.content ?? "";
    if (ch.finish_reason) streamFinish = ch.finish_reason;
  }
}
out.schemaStream = { content: streamed, finish: streamFinish };

// A keyword outside the supported subset.
try {
  await client.chat.completions.create({
    model, messages: ask, max_tokens: 10,
    response_format: { type: "json_schema", json_schema: { name: "zip", schema: { type: "string", pattern: "^[0-9]+$" } } },
  });
  out.unsupported = { status: 200 };
} catch (e) {
  out.unsupported = { status: e.status, message: e.message };
}

// A forced call to a named function, whole and streamed.
const tools = [
  // The model has random weights: strings need a bound to end.
  { type: "function", function: { name: "get_time", description: "Current time", parameters: { type: "object", properties: { timezone: { type: "string", maxLength: 24 } }, required: ["timezone"], additionalProperties: false } } },
  { type: "function", function: { name: "get_weather", description: "Weather forecast of a city", parameters: params, strict: true } },
];
const question = [{ role: "user", content: "Weather in Paris for three days?" }];
const forced = {
  model, messages: question, tools, max_tokens: 300, temperature: 1, seed: 9,
  tool_choice: { type: "function", function: { name: "get_weather" } },
};
const call = await client.chat.completions.create(forced);
out.forced = { message: call.choices[0].message, finish: call.choices[0].finish_reason };

const calls = [];
let headers = 0, fragments = 0, forcedFinish = "";
for await (const chunk of await client.chat.completions.create({ ...forced, stream: true })) {
  for (const ch of chunk.choices) {
    for (const tc of ch.delta?.tool_calls ?? []) {
      if (tc.id) {
        headers++;
        calls[tc.index] = { id: tc.id, name: tc.function.name, arguments: tc.function.arguments ?? "" };
      } else {
        fragments++;
        calls[tc.index].arguments += tc.function.arguments;
      }
    }
    if (ch.finish_reason) forcedFinish = ch.finish_reason;
  }
}
out.forcedStream = { calls, headers, fragments, finish: forcedFinish };

// tool_choice required with parallel_tool_calls false.
const one = await client.chat.completions.create({ ...forced, tool_choice: "required", parallel_tool_calls: false, seed: 1 });
out.required = { message: one.choices[0].message, finish: one.choices[0].finish_reason };

// The tool result goes back for a final answer.
const msgs = [...question, call.choices[0].message];
for (const tc of call.choices[0].message.tool_calls) {
  msgs.push({ role: "tool", tool_call_id: tc.id, content: JSON.stringify({ forecast: ["sunny", "rain", "sunny"] }) });
}
const answer = await client.chat.completions.create({ model, messages: msgs, tools, tool_choice: "none", max_tokens: 12, temperature: 0 });
out.final = { message: answer.choices[0].message, finish: answer.choices[0].finish_reason, prompt_tokens: answer.usage.prompt_tokens };
const alone = await client.chat.completions.create({ model, messages: question, tools, tool_choice: "none", max_tokens: 1, temperature: 0 });
out.final.alone_prompt_tokens = alone.usage.prompt_tokens;

process.stdout.write(JSON.stringify(out) + "\n");
