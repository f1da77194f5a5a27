#!/usr/bin/env python3
"""Re-checks edge-cases.json against the Jinja template itself.

Renders every case's request with Python jinja2 configured as Hugging Face
transformers' apply_chat_template configures it (sandboxed environment,
trim_blocks, lstrip_blocks, loopcontrols, a tojson filter with
ensure_ascii=False) and compares with the hand-derived prompt in the file.
Cases with "jinja": false use input the Jinja template cannot take (content
as a list of parts) and are skipped.

usage: python3 jinja_check.py [TOKENIZER_CONFIG_JSON]
"""
import json
import os
import sys

from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

here = os.path.dirname(os.path.abspath(__file__))
cfg_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "..", "..", "..", "shared", "reference", "qwen3-tokenizer", "tokenizer_config.json")
source = json.load(open(cfg_path))["chat_template"]


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(msg):
    raise ValueError(msg)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
template = env.from_string(source)

failed = 0
cases = json.load(open(os.path.join(here, "edge-cases.json")))
for case in cases:
    if case.get("jinja") is False:
        print("skip", case["name"])
        continue
    req = case["request"]
    kwargs = dict(messages=req["messages"], tools=req.get("tools"),
                  add_generation_prompt=req.get("add_generation_prompt", True),
                  bos_token="", eos_token="<|im_end|>", pad_token="<|endoftext|>")
    kwargs.update(req.get("chat_template_kwargs", {}))
    got = template.render(**kwargs)
    if got == case["prompt"]:
        print("ok  ", case["name"])
    else:
        failed += 1
        print("FAIL", case["name"], "\n  jinja:", repr(got), "\n  file: ", repr(case["prompt"]))
sys.exit(1 if failed else 0)
