#!/usr/bin/env python3
"""Writes pretokenize-golden.json: splits of generated strings by the Split
regexes of the Qwen2 and Llama 3 tokenizer.json files and by GPT-2's regex,
computed with the Python `regex` module (which supports \\p{..} classes and
lookahead), as an independent check of the hand-written splitters.

Characters U+001C..U+001F are left out: Python counts them as \\s, while
Unicode White_Space (Rust regex, Oniguruma, llama.cpp) does not.

Usage: python3 gen_pretokenize.py > pretokenize-golden.json
"""
import json
import random

import regex

PATTERNS = {
    "qwen2": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    "llama3": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    "gpt2": r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""",
}

ALPHABET = (
    list("abcXYZ") + list("0123") + ["'", "'", "s", "S", "t", "re", "VE", "ll", "D", "m", "ſ"]
    + [" ", " ", " ", "\t", "\n", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u0085", "\u2028", "\u000b"]
    + list(".,;!?-_=()[]{}<>$%&*#@/\\\"")
    + ["中", "文", "の", "é", "e\u0301", "Ж", "ß", "١", "²", "Ⅻ", "½", "😀", "👩\u200d💻", "\u200b", "\ufeff", "\ufffd"]
)


def main():
    rng = random.Random(20261127)
    texts = []
    for _ in range(600):
        n = rng.randint(1, 16)
        texts.append("".join(rng.choice(ALPHABET) for _ in range(n)))
    out = {"generator": "gen_pretokenize.py, Python regex " + regex.__version__, "cases": []}
    for name, pat in PATTERNS.items():
        r = regex.compile(pat)
        for t in texts:
            pieces = r.findall(t)
            assert "".join(pieces) == t, (name, t, pieces)
            out["cases"].append({"pre": name, "text": t, "pieces": pieces})
    lines = [json.dumps(c, ensure_ascii=False) for c in out["cases"]]
    print('{"generator": %s, "cases": [\n%s\n]}' % (json.dumps(out["generator"]), ",\n".join(lines)))


if __name__ == "__main__":
    main()
