#!/usr/bin/env python3
"""Generates random-conversation.jsonl: random Qwen3 chat requests and the
prompts Python jinja2 renders for them from the reference template, with
jinja2 configured as Hugging Face transformers' apply_chat_template
configures it (sandboxed, trim_blocks, lstrip_blocks, loopcontrols, tojson
with ensure_ascii=False).

Messages mix every role, think tags, tool-response wrappers, reasoning_content,
tool calls with string and object arguments, tools whose parameters are random
JSON values, and both thinking switches, so that the native template is
compared with Jinja on combinations nobody wrote by hand.

usage: python3 jinja_random.py SEED COUNT [TOKENIZER_CONFIG_JSON] > random-conversations.jsonl
"""
import json
import os
import random
import sys

from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

here = os.path.dirname(os.path.abspath(__file__))
cfg = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
    here, "..", "..", "..", "shared", "reference", "qwen3-tokenizer", "tokenizer_config.json")
src = json.load(open(cfg))["chat_template"]


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
template = env.from_string(src)
rng = random.Random(int(sys.argv[1]))

PIECES = ["a", "Hello", "\n", "\n\n", "<think>", "</think>", "<tool_response>", "</tool_response>",
          " ", "é", "{\"x\": 1}", "<tool_call>"]


def text():
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))


def value(depth=0):
    r = rng.random()
    if depth > 2 or r < 0.3:
        return rng.choice([1, 2.5, -0.0, 1e20, True, None, "s", "é\n\"", 10**20])
    if r < 0.6:
        return [value(depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["b", "a", "z", "é"]) + str(i): value(depth + 1) for i in range(rng.randint(0, 3))}


TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "d\u00e9",
                                      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
    {"type": "function", "function": {"name": "f", "parameters": value()}},
]

for _ in range(int(sys.argv[2])):
    messages = []
    for i in range(rng.randint(1, 6)):
        role = rng.choice(["system", "user", "user", "assistant", "assistant", "tool", "tool"])
        m = {"role": role, "content": text()}
        if role == "assistant":
            if rng.random() < 0.3:
                m["reasoning_content"] = text()
            if rng.random() < 0.4:
                m["tool_calls"] = [
                    {"type": "function", "function": {"name": rng.choice(["f", "g"]),
                                                      "arguments": rng.choice([json.dumps(value()), {"k": value()}])}}
                    for _ in range(rng.randint(1, 3))]
        messages.append(m)
    kwargs = dict(messages=messages, add_generation_prompt=rng.random() < 0.7)
    request = {"messages": messages, "add_generation_prompt": kwargs["add_generation_prompt"]}
    if rng.random() < 0.4:
        kwargs["tools"] = request["tools"] = rng.sample(TOOLS, rng.randint(1, 2))
    r = rng.random()
    if r < 0.5:
        kwargs["enable_thinking"] = r >= 0.3
        request["chat_template_kwargs"] = {"enable_thinking": kwargs["enable_thinking"]}
    try:
        prompt = template.render(**kwargs)
    except Exception:
        continue  # input the template rejects
    print(json.dumps({"request": request, "prompt": prompt}, ensure_ascii=False))
