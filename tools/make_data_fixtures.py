"""Writes the Parquet fixtures of tests/data_test.ts into tests/fixtures/data/.

sst2_hf.parquet mimics a Hugging Face datasets export of glue/sst2 (columns sentence: string,
label: int64, idx: int32; the "huggingface" schema metadata), written with pyarrow's defaults
(snappy) in two row groups so that reading across row groups is exercised. It also carries a
list column, a struct column and an int64 beyond 2**53. sst2_zstd.parquet is the same table
compressed with zstd, in one row group. (The other codecs' fixtures are written by
tools/make_parquet_fixtures.py.)

It also writes super_glue/<Task>/*.jsonl: a record or two per SuperGLUE task in the
distribution's JSON Lines layout, invented text (ReCoRD's entity offsets computed here). The
GLUE .tsv fixtures under glue/ are written by hand in the distribution's layouts.

Usage: python tools/make_data_fixtures.py  (pyarrow pinned in tools/requirements-data.txt)
"""

import json
import os
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "data"

SENTENCES = [
    "a gripping , funny film ",
    "dull and overlong ",
    "the cast is wonderful ",
    "nothing works here ",
    "an unexpected delight ",
]
LABELS = [1, 0, 1, 0, 1]

features = {
    "sentence": {"dtype": "string", "_type": "Value"},
    "label": {"names": ["negative", "positive"], "_type": "ClassLabel"},
    "idx": {"dtype": "int32", "_type": "Value"},
}
schema = pa.schema(
    [
        ("sentence", pa.string()),
        ("label", pa.int64()),
        ("idx", pa.int32()),
        ("tags", pa.list_(pa.string())),
        ("extra", pa.struct([("big", pa.int64()), ("note", pa.string())])),
    ],
    metadata={"huggingface": json.dumps({"info": {"features": features}})},
)
table = pa.table(
    {
        "sentence": SENTENCES,
        "label": LABELS,
        "idx": list(range(len(SENTENCES))),
        "tags": [["a"], [], ["b", "c"], ["d"], ["é"]],
        "extra": [
            {"big": 2**53 + 1, "note": "past 2**53"},
            {"big": -7, "note": None},
            {"big": 0, "note": "x"},
            {"big": 1, "note": "y"},
            {"big": 2, "note": "z"},
        ],
    },
    schema=schema,
)

OUT.mkdir(parents=True, exist_ok=True)
pq.write_table(table, OUT / "sst2_hf.parquet", row_group_size=3)
pq.write_table(table, OUT / "sst2_zstd.parquet", compression="zstd")
for name in ("sst2_hf.parquet", "sst2_zstd.parquet"):
    f = pq.ParquetFile(OUT / name)
    print(name, f.metadata.num_rows, "rows,", f.metadata.num_row_groups, "row groups,",
          f.metadata.row_group(0).column(0).compression)


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


S = OUT / "super_glue"
write_jsonl(S / "BoolQ/val.jsonl", [
    {"question": "is the moon made of cheese", "passage": "The Moon is a rocky body orbiting Earth.",
     "idx": 0, "label": False},
    {"question": "do cats purr", "passage": "Domestic cats purr when content.", "idx": 1, "label": True},
])
write_jsonl(S / "BoolQ/test.jsonl", [{"question": "is water wet", "passage": "Water is a liquid.", "idx": 0}])
write_jsonl(S / "CB/val.jsonl", [
    {"premise": "She said the train was late.", "hypothesis": "The train was on time.",
     "label": "contradiction", "idx": 0},
    {"premise": "He might come tomorrow.", "hypothesis": "He will come tomorrow.", "label": "neutral",
     "idx": 1},
])
write_jsonl(S / "COPA/val.jsonl", [
    {"premise": "The glass fell off the table.", "choice1": "It shattered.", "choice2": "It floated.",
     "question": "effect", "idx": 0, "label": 0},
])
passage = "Sent 1: <b>Alice</b> went home after school.<br><b>Sent 2: </b>She slept early.<br>"
write_jsonl(S / "MultiRC/val.jsonl", [
    {"idx": 0, "version": 1.1, "passage": {"text": passage, "questions": [
        {"question": "Where did <b>Alice</b> go?", "answers": [
            {"text": "Home", "idx": 0, "label": 1}, {"text": "To school", "idx": 1, "label": 0}], "idx": 0},
        {"question": "When did she sleep?", "answers": [{"text": "Early", "idx": 2, "label": 1}], "idx": 1},
    ]}},
])
text = ("Paris (CNN) -- Alice met Bob in Paris on Monday.\n@highlight\nAlice visits France"
        "\n@highlight\nBob is happy")
entities = []
for word in ["Paris", "Alice", "Bob", "France"]:
    start = 0
    while (i := text.find(word, start)) >= 0:
        entities.append({"start": i, "end": i + len(word) - 1})  # inclusive ends, as ReCoRD's
        start = i + 1
bob = text.find("Bob")
france = text.find("France")
write_jsonl(S / "ReCoRD/val.jsonl", [
    {"source": "Daily mail", "idx": 0, "passage": {"text": text, "entities": entities}, "qas": [
        {"query": "@placeholder was glad to see Alice.", "answers": [
            {"start": bob, "end": bob + 2, "text": "Bob"}, {"start": bob, "end": bob + 2, "text": "Bob"}],
         "idx": 0},
        {"query": "Alice flew to @placeholder.", "answers": [
            {"start": 0, "end": 4, "text": "Paris"}, {"start": france, "end": france + 5, "text": "France"}],
         "idx": 1},
    ]},
])
write_jsonl(S / "RTE/val.jsonl", [
    {"premise": "The museum opened in 1990.", "hypothesis": "The museum is closed.",
     "label": "not_entailment", "idx": 0},
])
write_jsonl(S / "WiC/val.jsonl", [
    {"word": "bank", "sentence1": "He sat on the river bank.", "sentence2": "She works at a bank.",
     "idx": 0, "label": False, "start1": 19, "start2": 15, "end1": 23, "end2": 19, "version": 1.1},
])
anna = {"text": "Anna thanked Maria because she had helped her move.",
        "target": {"span2_index": 4, "span1_index": 2, "span1_text": "Maria", "span2_text": "she"},
        "idx": 0, "label": True}
write_jsonl(S / "WSC/val.jsonl", [
    anna,
    # span1_text "The bottle." is not in the text; TFDS's wsc.fixed repairs it to "the bottle".
    {"text": "I poured water from the bottle into the cup until it was full.",
     "target": {"span2_index": 10, "span1_index": 4, "span1_text": "The bottle.", "span2_text": "it"},
     "idx": 1, "label": False},
])
write_jsonl(S / "WSC/train.jsonl", [
    anna,
    {"text": "Anna thanked Maria because she had helped her move.",
     "target": {"span2_index": 4, "span1_index": 0, "span1_text": "Anna", "span2_text": "she"},
     "idx": 1, "label": False},
])
print("super_glue fixtures written")
