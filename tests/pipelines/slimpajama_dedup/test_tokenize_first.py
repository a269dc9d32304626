"""slimpajama_dedup with ``on_invalid: error`` fails before replacing any earlier output."""

from __future__ import annotations

import json

import pytest
import yaml

from mosaic_kedro.corpus import CorpusFormatError


def _corpus(root, texts, *, broken=False):
    root.mkdir(parents=True)
    for i, text in enumerate(texts):
        lines = [json.dumps({"text": text[j:j + 1500], "meta": {}}) for j in range(0, 15000, 1500)]
        if broken and i == 0:
            lines.insert(4, '{"text": "a line cut sh')
        (root / f"shard_{i}.jsonl").write_text("\n".join(lines) + "\n")


def _run(project, tok_dir, corpus_path, **extra):
    from kedro.framework.project import configure_project
    from kedro.framework.session import KedroSession

    block = {"corpus_path": str(corpus_path), "tokenizer": {"name_or_path": str(tok_dir)},
             "parts": 2, "workers": 1, **extra}
    (project / "conf" / "local" / "parameters.yml").write_text(
        yaml.safe_dump({"slimpajama_dedup": block}))
    configure_project("mosaic_kedro")
    with KedroSession.create(project_path=project) as session:
        session.run(pipeline_names=["slimpajama_dedup"],
                    to_nodes=["tokenize_corpus", "external_corpus"])


def _files(root):
    """Every file under ``root`` but the run records (``09_tracking``, one per run)."""
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] != "09_tracking"}


def test_invalid_document_fails_before_token_files_and_manifests_are_replaced(
        project_copy, sample_texts, tiny_tokenizer):
    tok_dir = project_copy / "tok"
    tiny_tokenizer.save_pretrained(tok_dir)
    _corpus(project_copy / "good", sample_texts[:2])
    _run(project_copy, tok_dir, project_copy / "good")
    data = project_copy / "data"
    before = _files(data)
    assert {"part_00.tok", "part_01.tok", "corpus_manifest.json", "manifest.json"} <= {
        p.name for p in before}

    # another corpus: shard 0 (part 0) has a broken line, shard 1 (part 1) is valid and
    # different, so a run that wrote part 1 or the sample manifest would change them
    _corpus(project_copy / "bad", [sample_texts[0], sample_texts[2]], broken=True)
    with pytest.raises(CorpusFormatError,
                       match=r"shard_0\.jsonl:5: invalid JSON line.*no token file or manifest"
                             r".*was replaced.*on_invalid: skip"):
        _run(project_copy, tok_dir, project_copy / "bad", on_invalid="error")
    assert _files(data) == before
    assert not list(data.rglob(".tokenize-staging-*"))  # the staging folder is removed
