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
env=ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]); env.filters['tojson']=tojson
tpl=env.from_string(src)
rng=random.Random(int(sys.argv[1]))
pieces=["a","Hello","\n","\n\n","<think>","</think>","<tool_response>","</tool_response>"," ","é","{\"x\": 1}","<tool_call>"]
def text():
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0,6)))
def val(d=0):
    r=rng.random()
    if d>2 or r<0.3: return rng.choice([1,2.5,-0.0,1e20,True,None,"s","é\n\"",10**20])
    if r<0.6: return [val(d+1) for _ in range(rng.randint(0,3))]
    return {rng.choice(["b","a","z","é"]) + str(i): val(d+1) for i in range(rng.randint(0,3))}
tools_pool=[{"type":"function","function":{"name":"get_weather","description":"d\u00e9","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},{"type":"function","function":{"name":"f","parameters":val()}}]
out=[]
for n in range(int(sys.argv[2])):
    msgs=[]
    for i in range(rng.randint(1,6)):
        role=rng.choice(["system","user","user","assistant","assistant","tool","tool"])
        m={"role":role,"content":text()}
        if role=="assistant":
            if rng.random()<0.3: m["reasoning_content"]=text()
            if rng.random()<0.4:
                m["tool_calls"]=[{"type":"function","function":{"name":rng.choice(["f","g"]),"arguments":rng.choice([json.dumps(val()), {"k":val()}])}} for _ in range(rng.randint(1,3))]
        msgs.append(m)
    kw=dict(messages=msgs, add_generation_prompt=rng.random()<0.7)
    req={"messages":msgs,"add_generation_prompt":kw["add_generation_prompt"]}
    if rng.random()<0.4:
        kw["tools"]=req["tools"]=rng.sample(tools_pool, rng.randint(1,2))
    r=rng.random()
    if r<0.3: kw["enable_thinking"]=False; req["chat_template_kwargs"]={"enable_thinking":False}
    elif r<0.5: kw["enable_thinking"]=True; req["chat_template_kwargs"]={"enable_thinking":True}
    try:
        p=tpl.render(**kw)
    except Exception:
        continue  # input the template rejects
    out.append({"request":req,"prompt":p})
for o in out: print(json.dumps(o, ensure_ascii=False))
