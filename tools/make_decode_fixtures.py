#!/usr/bin/env python3
"""Writes tests/fixtures/decode/generate_refs.json: what `transformers`' `generate` returns on the
tiny fixture models of tests/fixtures/models/, for the decoding tests (tests/decode_test.ts).

    /opt/hfvenv/bin/python tools/make_decode_fixtures.py

Each case holds the inputs (plain id lists and masks, optionally a soft prompt [P, H] that is put in
front of each row's first real token, as our `prefix` combine does, and passed to `generate` as
`inputs_embeds`), the settings, and the generated ids per row (the decoder start token or the
input dropped; cut after the first EOS, which is kept) with `sequences_scores` for beam search.

Beam cases cover the original's preset (4 beams, length penalty 0.6), other penalties (0, 1, -0.5),
`early_stopping` True / False / "never", and EOS ids chosen to be likely (a token greedy decoding
emits early), so that hypotheses finish at different lengths. Greedy cases check the argmax chain
against `generate(do_sample=False)`.

Versions are pinned in tools/requirements-hf.txt.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, T5ForConditionalGeneration

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "tests" / "fixtures" / "models"
OUT = ROOT / "tests" / "fixtures" / "decode" / "generate_refs.json"

P = 3  # prompt length

# T5: right-padded encoder inputs (EOS 1 at the end of each row).
T5_IDS = [[5, 17, 33, 60, 8, 1], [44, 9, 71, 1, 0, 0]]
T5_MASK = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]]
# Decoder-only: left-padded rows (BOS 1 first), as generate expects.
LM_IDS = [[1, 5, 17, 33, 60, 8], [0, 0, 1, 44, 9, 71]]
LM_MASK = [[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]]


def trim(row: list[int], eos: list[int], limit: int) -> list[int]:
    out = []
    for t in row[:limit]:
        out.append(t)
        if t in eos:
            break
    return out


def prompt_for(hidden: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(P, hidden, generator=g) * 0.5).float()


def combined(model, ids: torch.Tensor, mask: torch.Tensor, prompt: torch.Tensor):
    """[prompt ; tokens] with the prompt right before each row's first real token."""
    embeds = model.get_input_embeddings()(ids)  # [B, T, H]
    rows, masks = [], []
    for b in range(ids.shape[0]):
        at = int(torch.nonzero(mask[b])[0])
        rows.append(torch.cat([embeds[b, :at], prompt, embeds[b, at:]], 0))
        masks.append(torch.cat([mask[b, :at], torch.ones(P, dtype=mask.dtype), mask[b, at:]], 0))
    return torch.stack(rows), torch.stack(masks)


def run(model, name: str, encoder_decoder: bool, ids, mask, settings: dict, prompt=None) -> dict:
    ids_t = torch.tensor(ids)
    mask_t = torch.tensor(mask)
    kwargs = dict(settings)
    eos = kwargs.pop("eos_token_id")
    max_new = kwargs["max_new_tokens"]
    beams = kwargs.get("num_beams", 1)
    if prompt is None:
        inputs = dict(input_ids=ids_t, attention_mask=mask_t)
    else:
        embeds, cmask = combined(model, ids_t, mask_t, prompt)
        inputs = dict(inputs_embeds=embeds, attention_mask=cmask)
    with torch.no_grad():
        out = model.generate(**inputs, eos_token_id=eos, do_sample=False,
                             return_dict_in_generate=True, output_scores=True, **kwargs)
    seq = out.sequences
    if encoder_decoder:
        seq = seq[:, 1:]  # the decoder start token
    elif prompt is None:
        seq = seq[:, ids_t.shape[1]:]  # the input (with inputs_embeds only new ids come back)
    tokens = [trim(r, eos, max_new) for r in seq.tolist()]
    case = {
        "model": name,
        "inputIds": ids,
        "inputMask": mask,
        "eosTokenIds": eos,
        "maxNewTokens": max_new,
        "numBeams": beams,
        "tokens": tokens,
    }
    if beams > 1:
        case["lengthPenalty"] = kwargs.get("length_penalty", 1.0)
        case["earlyStopping"] = kwargs.get("early_stopping", False)
        case["scores"] = [float(s) for s in out.sequences_scores]
    if prompt is not None:
        case["prompt"] = prompt.tolist()
    return case


def likely_eos(model, encoder_decoder: bool, ids, mask) -> int:
    """A token greedy decoding emits at its third step: a good EOS to make beams finish."""
    with torch.no_grad():
        out = model.generate(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                             max_new_tokens=4, do_sample=False, eos_token_id=None)
    seq = out[:, 1:] if encoder_decoder else out[:, len(ids[0]):]
    return int(seq[0, 2])


def cases_for(name: str) -> list[dict]:
    encoder_decoder = name.startswith("t5")
    cls = T5ForConditionalGeneration if encoder_decoder else AutoModelForCausalLM
    model = cls.from_pretrained(MODELS / name).eval()
    ids, mask = (T5_IDS, T5_MASK) if encoder_decoder else (LM_IDS, LM_MASK)
    eos = [int(model.config.eos_token_id)]
    hot = likely_eos(model, encoder_decoder, ids, mask)
    prompt = prompt_for(model.config.hidden_size if not encoder_decoder else model.config.d_model, 7)
    beam = lambda **kw: {"num_beams": 4, "length_penalty": 0.6, "max_new_tokens": 6,
                         "eos_token_id": [hot], **kw}
    out = [
        run(model, name, encoder_decoder, ids, mask, {"max_new_tokens": 6, "eos_token_id": eos}),
        run(model, name, encoder_decoder, ids, mask, {"max_new_tokens": 6, "eos_token_id": [hot]}),
        run(model, name, encoder_decoder, ids, mask, beam(eos_token_id=eos)),
        run(model, name, encoder_decoder, ids, mask, beam()),
        run(model, name, encoder_decoder, ids, mask, beam(), prompt=prompt),
    ]
    if name in ("t5_v1_1", "gpt2_tiny"):
        out += [
            run(model, name, encoder_decoder, ids, mask, beam(length_penalty=0.0)),
            run(model, name, encoder_decoder, ids, mask, beam(length_penalty=1.0, num_beams=3)),
            run(model, name, encoder_decoder, ids, mask, beam(length_penalty=-0.5)),
            run(model, name, encoder_decoder, ids, mask, beam(early_stopping=True)),
            run(model, name, encoder_decoder, ids, mask, beam(early_stopping="never", length_penalty=2.0)),
            run(model, name, encoder_decoder, ids, mask, beam(num_beams=2, max_new_tokens=9,
                                                              eos_token_id=[hot, eos[0]])),
        ]
    return out


def main() -> None:
    torch.manual_seed(0)
    cases = []
    for name in ("t5_v1_1", "gpt2_tiny", "llama_gqa"):
        cases += cases_for(name)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"cases": cases}, separators=(",", ":")) + "\n")
    finished = sum(any(r and r[-1] in c["eosTokenIds"] for r in c["tokens"]) for c in cases)
    print(f"wrote {len(cases)} cases ({finished} with a finished row) to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
