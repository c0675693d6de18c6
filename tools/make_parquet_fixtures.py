"""Writes the Parquet codec and text fixtures of tests/data_parquet_test.ts into
tests/fixtures/data/parquet/.

codec_<name>.parquet: one small table (a string column with a null and a non-ASCII value, an
int64 column, a list of strings) written with each codec the reader decompresses: none, snappy,
gzip, brotli, zstd and lz4 (which pyarrow writes as LZ4_RAW), in two row groups; and
codec_lzo.parquet, codec_none.parquet with its footer patched to say LZO, a codec not read.

invalid_utf8_text.parquet: a string column whose second row holds the bytes ff 61, which are not
UTF-8 (pyarrow's writer does not check; the array is a binary one viewed as strings).
invalid_utf8_map_key.parquet: the same bytes as a key of a map<string, int64> in the first row.
binary_not_utf8.parquet: an unannotated binary column holding ff 61 beside a valid string column:
binary data, which the reader keeps decoding leniently.

Usage: python tools/make_parquet_fixtures.py  (pyarrow pinned in tools/requirements-data.txt)
"""

import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "data" / "parquet"
OUT.mkdir(parents=True, exist_ok=True)

table = pa.table(
    {
        "text": pa.array(["alpha", "βeta ☃", None, "delta"], pa.string()),
        "label": pa.array([0, 1, 2, -(2**40)], pa.int64()),
        "tags": pa.array([["x"], [], ["y", "z"], None], pa.list_(pa.string())),
    }
)
CODECS = {"none": "UNCOMPRESSED", "snappy": "SNAPPY", "gzip": "GZIP", "brotli": "BROTLI",
          "zstd": "ZSTD", "lz4": "LZ4_RAW"}
for name in CODECS:
    path = OUT / f"codec_{name}.parquet"
    pq.write_table(table, path, compression=name, row_group_size=3)
    f = pq.ParquetFile(path)
    assert f.read().equals(table)
    print(path.name, f.metadata.num_row_groups, "row groups,", f.metadata.row_group(0).column(0).compression)

# codec_lzo.parquet: codec_none.parquet with the codec of column "text" set to LZO (3) in the
# footer, as pyarrow writes no LZO. In thrift's compact encoding the codec (field 4, an i32: 0x15,
# then the zigzag varint) directly follows the column's path_in_schema (a list of one string).
raw = (OUT / "codec_none.parquet").read_bytes()
head = b"\x18\x04text\x15\x00"
assert raw.count(head) == 2, "one text column chunk per row group"
(OUT / "codec_lzo.parquet").write_bytes(raw.replace(head, b"\x18\x04text\x15\x06"))
f = pq.ParquetFile(OUT / "codec_lzo.parquet")
print("codec_lzo.parquet", [f.metadata.row_group(g).column(0).compression for g in range(2)])

BAD = b"\xffa"
text = pa.array([b"fine", BAD, b"also fine"], pa.binary()).view(pa.string())
pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "text": text}),
               OUT / "invalid_utf8_text.parquet")

keys = pa.array([BAD, b"ok"], pa.binary()).view(pa.string())
items = pa.array([1, 2], pa.int64())
counts = pa.MapArray.from_arrays(pa.array([0, 1, 2], pa.int32()), keys, items)
pq.write_table(pa.table({"counts": counts}), OUT / "invalid_utf8_map_key.parquet")

pq.write_table(
    pa.table({"text": pa.array(["a caption"], pa.string()), "image": pa.array([BAD], pa.binary())}),
    OUT / "binary_not_utf8.parquet",
)
for name in ("invalid_utf8_text", "invalid_utf8_map_key", "binary_not_utf8"):
    print(f"{name}.parquet", pq.ParquetFile(OUT / f"{name}.parquet").schema_arrow)
