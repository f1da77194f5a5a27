// neuron's chat page: lists the loaded models, streams chat completions from
// this neuron's OpenAI API (POST /v1/chat/completions with stream: true) and
// renders them: content, reasoning_content (collapsed), tool calls, usage and
// timing. Settings and the API key live in localStorage. Plain browser
// JavaScript; nothing is fetched from anywhere but this neuron.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = {
    model: $("model"), status: $("status"), messages: $("messages"), empty: $("empty"),
    emptyModel: $("empty-model"), chat: $("chat"), composer: $("composer"), input: $("input"),
    send: $("send"), stop: $("stop"), newChat: $("new-chat"), toggle: $("toggle-settings"),
    settings: $("settings"), system: $("system"), temperature: $("temperature"),
    temperatureValue: $("temperature-value"), maxTokens: $("max-tokens"), thinking: $("thinking"),
    tools: $("tools"), apiKey: $("api-key"),
  };

  // Settings persisted in localStorage, by element.
  const stored = [
    [el.system, "neuron.system", "value"],
    [el.temperature, "neuron.temperature", "value"],
    [el.maxTokens, "neuron.maxTokens", "value"],
    [el.thinking, "neuron.thinking", "checked"],
    [el.tools, "neuron.tools", "value"],
    [el.apiKey, "neuron.apiKey", "value"],
  ];
  for (const [node, key, prop] of stored) {
    const v = localStorage.getItem(key);
    if (v !== null) node[prop] = prop === "checked" ? v === "true" : v;
    node.addEventListener(node.type === "checkbox" ? "change" : "input", () => localStorage.setItem(key, String(node[prop])));
  }
  if (localStorage.getItem("neuron.settingsHidden") === "true") setSettings(false);
  el.temperatureValue.textContent = Number(el.temperature.value).toFixed(2);
  el.temperature.addEventListener("input", () => { el.temperatureValue.textContent = Number(el.temperature.value).toFixed(2); });
  el.apiKey.addEventListener("change", loadModels);

  const history = []; // the conversation as OpenAI messages, without the system prompt
  let controller = null; // AbortController of the running stream

  function headers() {
    const h = { "Content-Type": "application/json" };
    const key = el.apiKey.value.trim();
    if (key) h.Authorization = "Bearer " + key;
    return h;
  }

  function setStatus(text, kind) {
    el.status.textContent = text;
    el.status.className = "status " + (kind || "");
  }

  function setSettings(show) {
    el.settings.hidden = !show;
    el.toggle.setAttribute("aria-expanded", String(show));
    localStorage.setItem("neuron.settingsHidden", String(!show));
  }
  el.toggle.addEventListener("click", () => setSettings(el.settings.hidden));

  // errorText turns an OpenAI error body (or anything else) into a sentence.
  async function errorText(resp) {
    const body = await resp.text();
    try {
      const e = JSON.parse(body).error;
      if (e && e.message) return e.message;
    } catch (_) { /* not JSON */ }
    return `HTTP ${resp.status}` + (body ? ": " + body.slice(0, 200) : "");
  }

  async function loadModels() {
    setStatus("connecting…", "busy");
    try {
      const resp = await fetch("/v1/models", { headers: headers() });
      if (!resp.ok) {
        const msg = await errorText(resp);
        setStatus(resp.status === 401 ? "API key needed (Settings)" : msg, "err");
        if (resp.status === 401) { setSettings(true); el.apiKey.focus(); }
        return;
      }
      const ids = (await resp.json()).data.map((m) => m.id);
      const want = el.model.value || localStorage.getItem("neuron.model");
      el.model.replaceChildren(...ids.map((id) => new Option(id, id)));
      if (ids.includes(want)) el.model.value = want;
      if (ids.length === 0) {
        el.model.replaceChildren(new Option("no model loaded", ""));
        setStatus("no model loaded", "err");
      } else {
        setStatus(ids.length === 1 ? "1 model" : ids.length + " models", "ok");
      }
      modelChanged();
    } catch (err) {
      setStatus("cannot reach neuron: " + err.message, "err");
    }
  }
  el.model.addEventListener("change", () => { localStorage.setItem("neuron.model", el.model.value); modelChanged(); });
  function modelChanged() {
    el.emptyModel.textContent = el.model.value || "the selected model";
    updateSend();
  }

  function updateSend() {
    el.send.disabled = controller !== null || !el.model.value || el.input.value.trim() === "";
  }

  // The composer grows with its text; Enter sends, Shift+Enter breaks the line.
  el.input.addEventListener("input", () => {
    el.input.style.height = "auto";
    el.input.style.height = Math.min(el.input.scrollHeight, 200) + "px";
    updateSend();
  });
  el.input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!el.send.disabled) el.composer.requestSubmit();
    }
  });
  el.composer.addEventListener("submit", (e) => { e.preventDefault(); send(); });
  el.stop.addEventListener("click", () => { if (controller) controller.abort(); });
  el.newChat.addEventListener("click", () => {
    if (controller) controller.abort();
    history.length = 0;
    el.messages.replaceChildren();
    el.empty.hidden = false;
    el.input.focus();
  });

  function node(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function nearBottom() { return el.chat.scrollHeight - el.chat.scrollTop - el.chat.clientHeight < 80; }
  function scrollDown(force) { if (force || nearBottom()) el.chat.scrollTop = el.chat.scrollHeight; }

  // renderText fills target with text, showing ``` fences as code blocks and
  // `spans` as inline code; everything goes in as text, never as HTML.
  function renderText(target, text) {
    const out = [];
    const fence = /```[^\n`]*\n?([\s\S]*?)(?:```|$)/g;
    let last = 0;
    for (let m; (m = fence.exec(text)) !== null;) {
      if (m.index > last) out.push(...inline(text.slice(last, m.index)));
      const pre = node("pre");
      pre.append(node("code", "", m[1]));
      out.push(pre);
      last = fence.lastIndex;
    }
    if (last < text.length) out.push(...inline(text.slice(last)));
    target.replaceChildren(...out);
  }
  function inline(text) {
    const parts = text.split(/(`[^`\n]+`)/);
    return parts.filter((p) => p !== "").map((p) =>
      p.length > 2 && p.startsWith("`") && p.endsWith("`") ? node("code", "", p.slice(1, -1)) : document.createTextNode(p));
  }

  function addUser(text) {
    const m = node("div", "msg user");
    m.append(node("div", "bubble", text));
    el.messages.append(m);
  }

  // addAssistant adds an empty assistant message and returns its parts.
  function addAssistant(model) {
    const m = node("div", "msg assistant streaming");
    m.dataset.state = "streaming";
    m.dataset.model = model;
    const avatar = node("div", "avatar", "AI");
    const bubble = node("div", "bubble");
    const reasoning = node("details", "reasoning");
    const summary = node("summary", "", "Thinking…");
    const reasoningText = node("div", "reasoning-text");
    reasoning.append(summary, reasoningText);
    reasoning.hidden = true;
    const content = node("div", "content");
    const cursor = node("span", "cursor");
    const tools = node("div", "tools");
    const meta = node("div", "meta");
    bubble.append(reasoning, content, cursor, tools, meta);
    m.append(avatar, bubble);
    el.messages.append(m);
    return { m, reasoning, summary, reasoningText, content, cursor, tools, meta };
  }

  function renderToolCalls(target, calls) {
    target.replaceChildren(...calls.filter(Boolean).map((c) => {
      const box = node("div", "tool-call");
      const head = node("div", "tool-head");
      head.append(node("span", "tool-tag", "tool call"), node("span", "tool-name", c.function.name || "?"));
      let args = c.function.arguments;
      try { args = JSON.stringify(JSON.parse(args), null, 2); } catch (_) { /* still streaming, or not JSON */ }
      box.append(head, node("pre", "tool-args", args));
      return box;
    }));
  }

  function buildRequest(messages) {
    const body = {
      model: el.model.value,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      temperature: Number(el.temperature.value),
      chat_template_kwargs: { enable_thinking: el.thinking.checked },
    };
    const max = parseInt(el.maxTokens.value, 10);
    if (max > 0) body.max_tokens = max;
    const tools = el.tools.value.trim();
    el.tools.classList.remove("invalid");
    if (tools) {
      try {
        body.tools = JSON.parse(tools);
        if (!Array.isArray(body.tools)) throw new Error("not an array");
      } catch (err) {
        el.tools.classList.add("invalid");
        throw new Error("the Tools setting is not a JSON array: " + err.message);
      }
    }
    return body;
  }

  async function send() {
    const text = el.input.value.trim();
    if (!text || controller || !el.model.value) return;
    const messages = [];
    if (el.system.value.trim()) messages.push({ role: "system", content: el.system.value.trim() });
    messages.push(...history, { role: "user", content: text });

    el.empty.hidden = true;
    addUser(text);
    el.input.value = "";
    el.input.style.height = "auto";
    const a = addAssistant(el.model.value);
    scrollDown(true);

    const state = { content: "", reasoning: "", calls: [], finish: "", usage: null, start: performance.now(), first: 0, thinkEnd: 0 };
    controller = new AbortController();
    el.send.hidden = true;
    el.stop.hidden = false;
    updateSend();
    setStatus("generating…", "busy");
    let outcome = "done";
    try {
      const body = buildRequest(messages);
      const resp = await fetch("/v1/chat/completions", {
        method: "POST", headers: headers(), body: JSON.stringify(body), signal: controller.signal,
      });
      if (!resp.ok) throw new Error(await errorText(resp));
      await readStream(resp, (chunk) => applyChunk(a, state, chunk));
    } catch (err) {
      if (err.name === "AbortError") {
        outcome = "stopped";
      } else {
        outcome = "error";
        a.m.querySelector(".bubble").append(node("div", "error", err.message));
      }
    }
    finishMessage(a, state, outcome);
    // The exchange joins the history once anything came back; reasoning is
    // not sent again (Qwen3's template drops it from past turns anyway).
    if (outcome !== "error" && (state.content || state.reasoning || state.calls.length)) {
      history.push({ role: "user", content: text });
      history.push({ role: "assistant", content: state.content });
    }
    controller = null;
    el.send.hidden = false;
    el.stop.hidden = true;
    updateSend();
    setStatus(outcome === "error" ? "request failed" : outcome === "stopped" ? "stopped" : "ready", outcome === "error" ? "err" : "ok");
    el.input.focus();
  }

  // readStream reads a text/event-stream body and calls onData with each
  // parsed data payload until [DONE]. An error event throws.
  async function readStream(resp, onData) {
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data:")) continue;
          const data = line.slice(5).trim();
          if (data === "[DONE]") return;
          const chunk = JSON.parse(data);
          if (chunk.error) throw new Error(chunk.error.message || "the stream ended with an error");
          onData(chunk);
        }
      }
    }
  }

  function applyChunk(a, st, chunk) {
    if (chunk.usage) st.usage = chunk.usage;
    for (const choice of chunk.choices || []) {
      const d = choice.delta || {};
      const stick = nearBottom();
      if (!st.first && (d.content || d.reasoning_content || d.tool_calls)) st.first = performance.now();
      if (d.reasoning_content) {
        st.reasoning += d.reasoning_content;
        a.reasoning.hidden = false;
        a.reasoningText.textContent = st.reasoning;
      }
      if (d.content) {
        if (st.reasoning && !st.thinkEnd) st.thinkEnd = performance.now();
        st.content += d.content;
        renderText(a.content, st.content);
      }
      for (const tc of d.tool_calls || []) {
        if (st.reasoning && !st.thinkEnd) st.thinkEnd = performance.now();
        const i = tc.index ?? st.calls.length;
        const call = st.calls[i] || (st.calls[i] = { id: "", function: { name: "", arguments: "" } });
        if (tc.id) call.id = tc.id;
        if (tc.function) {
          if (tc.function.name) call.function.name += tc.function.name;
          if (tc.function.arguments) call.function.arguments += tc.function.arguments;
        }
        renderToolCalls(a.tools, st.calls);
      }
      if (choice.finish_reason) st.finish = choice.finish_reason;
      if (stick) scrollDown(true);
    }
  }

  function finishMessage(a, st, outcome) {
    a.cursor.remove();
    a.m.classList.remove("streaming");
    a.m.dataset.state = outcome;
    if (st.finish) a.m.dataset.finish = st.finish;
    if (st.reasoning) {
      const ms = (st.thinkEnd || performance.now()) - (st.first || st.start);
      a.summary.textContent = "Thought for " + (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);
    }
    const end = performance.now();
    const parts = [];
    if (st.usage) {
      parts.push(["prompt", `${st.usage.prompt_tokens} prompt tokens`]);
      parts.push(["completion", `${st.usage.completion_tokens} completion tokens`]);
    }
    if (st.first) parts.push(["ttft", `first token ${((st.first - st.start) / 1000).toFixed(2)} s`]);
    if (st.usage && st.first && st.usage.completion_tokens > 1 && end > st.first) {
      parts.push(["rate", `${((st.usage.completion_tokens - 1) / ((end - st.first) / 1000)).toFixed(1)} tok/s`]);
    }
    if (outcome === "stopped") parts.push(["finish", "stopped"]);
    else if (st.finish) parts.push(["finish", `finish: ${st.finish}`]);
    a.meta.replaceChildren(...parts.map(([k, t]) => { const s = node("span", k, t); return s; }));
    if (!st.content && !st.calls.length && !st.reasoning && outcome === "done") {
      a.content.append(node("span", "hint", "(empty reply)"));
    }
  }

  updateSend();
  loadModels();
  el.input.focus();
})();
