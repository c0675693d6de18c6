"""Writes the command-line fixtures of tests/cli_commands_test.ts into tests/fixtures/cli/.

model/: a tiny random T5 1.1 (gated-GELU feed-forward, untied output head, relative position
buckets as T5 1.1) whose vocabulary is the real T5 SentencePiece vocabulary (32128 rows, the
tokenizer's 32100 ids padded as T5 1.1 pads them), so that the real T5 tokenizer fits it. Its
width is 8 so that the two [32128, 8] float16 tables plus the copied tokenizer.json (1.4 MB) stay
under 2.5 MB. The weights are random (seed 0): the tests check the plumbing, not the quality.

The tokenizer files are copied from tests/fixtures/tokenizers/t5/ (the run configuration has no
`tokenizer` field: the CLI reads the tokenizer from the model directory, as Hugging Face does).

sst2/: a few rows of GLUE SST-2 in the distribution's layout (train.tsv, dev.tsv with a
`sentence<TAB>label` header; test.tsv with `index<TAB>sentence`), first rows of the real files.

sst2_tiny.json, the run configuration the tests and the README's examples use, is written by hand.

Usage: /opt/hfvenv/bin/python tools/make_cli_fixtures.py  (pins in tools/requirements-hf.txt)
"""

import json
import pathlib
import shutil

import torch
from transformers import T5Config, T5ForConditionalGeneration

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "cli"
TOKENIZER = ROOT / "tests" / "fixtures" / "tokenizers" / "t5"

TRAIN = [
    ("hide new secretions from the parental units ", 0),
    ("contains no wit , only labored gags ", 0),
    ("that loves its characters and communicates something rather beautiful about human nature ", 1),
    ("remains utterly satisfied to remain the same throughout ", 0),
    ("on the worst revenge-of-the-nerds clich\u00e9s the filmmakers could dredge up ", 0),
    ("that 's far too tragic to merit such superficial treatment ", 0),
    ("demonstrates that the director of such hollywood blockbusters as patriot games can still turn out a small , personal film with an emotional wallop . ", 1),
    ("of saucy ", 1),
]
DEV = [
    ("it 's a charming and often affecting journey . ", 1),
    ("unflinchingly bleak and desperate ", 0),
    ("allows us to hope that nolan is poised to embark a major career as a commercial yet inventive filmmaker . ", 1),
    ("the acting , costumes , music , cinematography and sound are all astounding given the production 's austere locales . ", 1),
]
TEST = [
    "uneasy mishmash of styles and genres .",
    "this film 's relationship to actual tension is the same as what christmas-tree flocking in a spray can is to actual snow : a poor -- if durable -- imitation .",
]


def write_model() -> None:
    torch.manual_seed(0)
    config = T5Config(
        vocab_size=32128,
        d_model=8,
        d_kv=4,
        d_ff=16,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        dropout_rate=0.0,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
    )
    model = T5ForConditionalGeneration(config).eval()
    # transformers 5 ties lm_head to the embeddings whatever the config says; T5 1.1's head is its
    # own matrix, so give it one (scaled as T5's init: std d_model^-0.5).
    gen = torch.Generator().manual_seed(1)
    head = torch.randn(model.lm_head.weight.shape, generator=gen) * config.d_model**-0.5
    model.lm_head.weight = torch.nn.Parameter(head)
    target = OUT / "model"
    if target.exists():
        shutil.rmtree(target)
    model.half().save_pretrained(target, safe_serialization=True)
    # The config as transformers 4.x wrote it for T5 1.1 (untied, no output rescale).
    c = json.loads((target / "config.json").read_text())
    c["tie_word_embeddings"] = False
    c.pop("scale_decoder_outputs", None)
    (target / "config.json").write_text(json.dumps(c, indent=2, sort_keys=True) + "\n")
    (target / "model.safetensors").chmod(0o644)
    back = T5ForConditionalGeneration.from_pretrained(target)
    assert back.lm_head.weight is not back.shared.weight
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(TOKENIZER / name, target / name)


def write_sst2() -> None:
    d = OUT / "sst2"
    d.mkdir(parents=True, exist_ok=True)
    rows = lambda xs: "".join(f"{s}\t{y}\n" for s, y in xs)
    (d / "train.tsv").write_text("sentence\tlabel\n" + rows(TRAIN), encoding="utf-8")
    (d / "dev.tsv").write_text("sentence\tlabel\n" + rows(DEV), encoding="utf-8")
    test = "".join(f"{i}\t{s}\n" for i, s in enumerate(TEST))
    (d / "test.tsv").write_text("index\tsentence\n" + test, encoding="utf-8")


if __name__ == "__main__":
    write_model()
    write_sst2()
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({total / 1e6:.2f} MB)")
