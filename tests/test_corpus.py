"""The corpus library: streaming reader, tokenization into parts, planting."""

from __future__ import annotations

import copy
import json
import logging

import numpy as np
import pytest
import zstandard

from mosaic_kedro import corpus, token_files


def _zst(path, lines: list[str], frames: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    per = max(1, len(lines) // frames)
    blob = b""
    for i in range(0, len(lines), per):
        blob += zstandard.ZstdCompressor().compress(("".join(x + "\n" for x in lines[i:i + per])).encode())
    path.write_bytes(blob)


def _rec(text: str, name: str = "RedPajamaBook") -> str:
    return json.dumps({"text": text, "meta": {"redpajama_set_name": name}})


def test_reads_tree_of_zst_jsonl_and_txt(tmp_path):
    _zst(tmp_path / "chunk1" / "a.jsonl.zst", [_rec(f"doc {i}") for i in range(10)], frames=3)
    (tmp_path / "chunk2").mkdir()
    (tmp_path / "chunk2" / "b.jsonl").write_text("\n".join(_rec(f"plain {i}", "C4") for i in range(3)))
    (tmp_path / "c.txt").write_text("a text file")
    stats = corpus.ReadStats()
    docs = list(corpus.iter_documents(tmp_path, stats))
    # sorted by path: c.txt, chunk1/a.jsonl.zst, chunk2/b.jsonl
    assert [t for t, _ in docs] == ["a text file"] + [f"doc {i}" for i in range(10)] + ["plain 0", "plain 1", "plain 2"]
    assert docs[11][1]["redpajama_set_name"] == "C4"
    assert (stats.files, stats.documents, stats.invalid_lines) == (3, 14, 0)


def test_invalid_json_lines_are_skipped_and_counted(tmp_path, caplog):
    lines = [_rec("ok 1"), "{not json", json.dumps([1, 2]), json.dumps({"meta": {}}), _rec("ok 2")]
    _zst(tmp_path / "s.jsonl.zst", lines)
    stats = corpus.ReadStats()
    with caplog.at_level(logging.WARNING):
        docs = list(corpus.iter_documents(tmp_path, stats))
    assert [t for t, _ in docs] == ["ok 1", "ok 2"]
    assert stats.invalid_lines == 3
    assert stats.invalid_by_file == {str(tmp_path / "s.jsonl.zst"): 3}
    assert "skipped 3 invalid JSON line(s)" in caplog.text
    with pytest.raises(corpus.CorpusFormatError, match=r"s\.jsonl\.zst:2: invalid JSON"):
        list(corpus.iter_documents(tmp_path, on_invalid="error"))


def test_truncated_zst_is_an_error_naming_the_file(tmp_path):
    p = tmp_path / "t.jsonl.zst"
    _zst(p, [_rec("x" * 50 + str(i)) for i in range(2000)])
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(corpus.CorpusFormatError, match=r"t\.jsonl\.zst: zstandard file is truncated"):
        list(corpus.iter_documents(p))
    p.write_bytes(b"not zstandard at all")
    with pytest.raises(corpus.CorpusFormatError, match=r"t\.jsonl\.zst: corrupt zstandard"):
        list(corpus.iter_documents(p))


def test_missing_or_empty_corpus(tmp_path):
    with pytest.raises(corpus.CorpusFormatError, match="no such corpus"):
        corpus.list_shards(tmp_path / "nope")
    with pytest.raises(corpus.CorpusFormatError, match="holds no"):
        corpus.list_shards(tmp_path)


def test_width_that_cannot_hold_the_vocabulary():
    assert corpus.token_width_for(50257) == 2
    assert corpus.token_width_for(65535) == 4
    with pytest.raises(token_files.TokenFileError, match="does not fit 2-byte tokens"):
        corpus.token_width_for(100_000, 2)


def test_tokenize_rejects_forced_narrow_width(tmp_path, tiny_tokenizer):
    _zst(tmp_path / "c" / "s.jsonl.zst", [_rec("hello")])
    tok = copy.deepcopy(tiny_tokenizer)
    tok.add_tokens([f"<extra_{i}>" for i in range(70_000 - len(tok))])
    with pytest.raises(token_files.TokenFileError, match="does not fit 2-byte"):
        corpus.tokenize_corpus(tmp_path / "c", tmp_path / "o", tok, 1, width=2)
    assert not (tmp_path / "o" / "part_00.tok").exists()


def test_distances():
    a = list(range(10))
    assert corpus.hamming(a, a[:3] + [99] + a[4:]) == 1
    assert corpus.levenshtein(a, a[1:] + [99]) == 2
    assert corpus.longest_common_run(a, [50, 3, 4, 5, 6, 51]) == 4


def test_plant_and_tokenize_round_trip(tmp_path, sample_texts):
    from mosaic_kedro import lm_training

    tok = lm_training.train_bpe_tokenizer(sample_texts[:2], 512)
    texts = [t[:60_000] for t in sample_texts]
    m = corpus.make_planted_sample(texts, tmp_path / "s", tok, length=30, exact_counts=[2, 4],
                                   targets_per_count=1, fuzzy_distances=[1, 3, 6], min_distinct=15,
                                   shards=3, seed=1)
    assert len(m["shards"]) == 3
    for t in m["targets"]:
        for f in t["fuzzy"]:
            assert f[f["kind"]] == f["distance"]
    man = corpus.tokenize_corpus(tmp_path / "s", tmp_path / "tok", tok, 2, batch_size=16)
    assert man["n_docs"] == m["n_docs"] and man["token_width"] == 2
    found = {}
    for part in man["parts"]:
        tf = token_files.read_token_file(part["tokens"], validate=True)
        docs = list(tf.documents())
        for key, idx in part["planted_docs"].items():
            found[key] = np.asarray(docs[idx]).tolist()
    assert len(found) == m["n_planted"]
    for t in m["targets"]:
        assert found[f"{t['id']}_exact_0"] == t["tokens"]
        for f in t["fuzzy"]:
            got = found[f["id"]]
            assert corpus.levenshtein(t["tokens"], got) == f["levenshtein"]
            assert len(got) == len(t["tokens"]) and corpus.hamming(t["tokens"], got) == f["hamming"]
