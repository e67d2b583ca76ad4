"""The embed backend: the ONNX graph built from the model's weights, run by ONNX Runtime.

Checked against sentence-transformers' own vectors of the 210 comparison texts
(``testdata/embeddings/``, written by ``python/tools/compare_embeddings.py --write-reference``
in a venv with torch, which the worker venv never holds).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dspex_worker.embed import graph_cache
from dspex_worker.embed.model_files import ModelFiles, resolve_model_dir
from dspex_worker.embed.onnx_encoder import OnnxEncoder
from dspex_worker.embed.token_batches import length_sorted_batches, padded
from dspex_testing.client import WorkerProcess, child_env
from dspex_testing.embed_texts import (comparison_texts, corpus_texts, read_reference,
                                       texts_sha256)

#: Lowest cosine of an int8 vector to its float32 vector on the comparison set, and the lowest
#: mean (README, "Embeddings", has the measured values: 0.975 and 0.9935).
INT8_MIN_COSINE = 0.95
INT8_MEAN_COSINE = 0.99


@pytest.fixture(scope="module")
def files() -> ModelFiles:
    return ModelFiles.load(resolve_model_dir(None))


@pytest.fixture(scope="module")
def onnx_float32(files: ModelFiles) -> OnnxEncoder:
    return OnnxEncoder(files, "float32", threads=2)


def test_the_float32_graph_matches_sentence_transformers_within_1e_5(
        files: ModelFiles, onnx_float32: OnnxEncoder,
        record_property: pytest.RecordProperty) -> None:
    texts = comparison_texts()
    reference, provenance = read_reference()
    # The reference is of these texts and this model; if either changed, write it again.
    assert texts_sha256(texts) == provenance["texts_sha256"], provenance["made_by"]
    assert files.fingerprint() == provenance["model_sha256"], provenance["made_by"]
    assert reference.dtype == np.float32 and reference.shape == (210, 384)
    batched = onnx_float32.encode(texts)  # the model's Normalize module, as encode() gives
    assert batched.dtype == np.float32 and batched.shape == (210, 384)
    one_by_one = np.stack([onnx_float32.encode([text])[0] for text in texts])
    differences = {"batched": float(np.abs(batched - reference).max()),
                   "one_by_one": float(np.abs(one_by_one - reference).max())}
    record_property("max_abs_difference_to_sentence_transformers", differences)
    assert max(differences.values()) < 1e-5, differences
    raw = onnx_float32.encode(texts, normalize=False)
    assert np.abs(raw / np.linalg.norm(raw, axis=1, keepdims=True) - reference).max() < 1e-5


def test_int8_vectors_keep_their_direction(files: ModelFiles, onnx_float32: OnnxEncoder,
                                           record_property: pytest.RecordProperty) -> None:
    texts = comparison_texts()
    int8 = OnnxEncoder(files, "int8", threads=2)
    cosines = (int8.encode(texts) * onnx_float32.encode(texts)).sum(axis=1)
    record_property("int8_cosine_min", float(cosines.min()))
    record_property("int8_cosine_mean", float(cosines.mean()))
    assert cosines.min() >= INT8_MIN_COSINE, (cosines.min(), texts[int(cosines.argmin())])
    assert cosines.mean() >= INT8_MEAN_COSINE, cosines.mean()
    assert cosines.mean() < 0.99999, "int8 vectors identical to float32: not quantized?"
    assert int8.graph.path.stat().st_size < onnx_float32.graph.path.stat().st_size / 3


def test_length_sorted_sub_batches_give_the_vectors_of_one_batch(onnx_float32: OnnxEncoder) -> None:
    texts = corpus_texts(40) + ["short", "In the beginning " * 100, "", "a b c"]
    one_batch = onnx_float32.encode(texts, batch_size=len(texts))
    for batch_size in (1, 3, 16):
        assert np.abs(onnx_float32.encode(texts, batch_size=batch_size) - one_batch).max() < 1e-5


def test_a_sub_batch_plan_is_longest_first_bounded_and_covers_every_text() -> None:
    lengths = [5, 40, 7, 40, 3, 12, 256, 9]
    plan = length_sorted_batches(lengths, 3)
    assert plan == [[6, 1, 3], [5, 7, 2], [0, 4]]  # stable: equal lengths keep input order
    assert sorted(i for batch in plan for i in batch) == list(range(len(lengths)))
    assert length_sorted_batches([], 4) == []
    with pytest.raises(ValueError, match="positive"):
        length_sorted_batches(lengths, 0)


def test_a_sub_batch_is_padded_to_its_own_longest_text(files: ModelFiles) -> None:
    encodings = files.tokenizer().encode_batch(
        ["a much longer text than the others, by far", "hi", "hello there"])
    ids, type_ids, mask = padded(encodings, [2, 1], files.pad_id)
    width, short = len(encodings[2].ids), len(encodings[1].ids)
    assert ids.shape == (2, width)  # not the longest of the request
    assert mask.tolist() == [[1] * width, [1] * short + [0] * (width - short)]
    assert (ids[1][mask[1] == 0] == files.pad_id).all() and not type_ids.any()


def _thread_count_script(threads: str) -> str:
    """Prints the threads ONNX Runtime adds to a fresh process for a session of ``threads``."""
    return "\n".join([
        "import os",
        "import onnxruntime  # its import starts a thread of its own; count the session's only",
        "from dspex_worker.embed.model_files import ModelFiles, resolve_model_dir",
        "from dspex_worker.embed.onnx_encoder import OnnxEncoder",
        "files = ModelFiles.load(resolve_model_dir(None))",
        "before = len(os.listdir('/proc/self/task'))",
        f"encoder = OnnxEncoder(files, threads={threads})",
        "encoder.encode(['a text to run the session once'] * 8)",
        "print(encoder.threads, len(os.listdir('/proc/self/task')) - before)",
    ])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
@pytest.mark.parametrize(("threads", "env", "expected"), [
    ("1", {}, 1), ("3", {}, 3),
    # No explicit count: the worker's budget, which hello puts into OMP_NUM_THREADS.
    ("None", {"OMP_NUM_THREADS": "1"}, 1), ("None", {"OMP_NUM_THREADS": "2"}, 2),
])
def test_the_session_runs_on_the_threads_it_was_given(threads: str, env: dict[str, str],
                                                      expected: int) -> None:
    # Tokenizers' own pool is off in workers (dspex_worker.offline); here too, so that only
    # ONNX Runtime's intra-op pool (its threads less the calling one) is counted.
    run = subprocess.run([sys.executable, "-c", _thread_count_script(threads)], capture_output=True,
                         text=True, timeout=120, check=False,
                         env=child_env({"TOKENIZERS_PARALLELISM": "false", **env}))
    assert run.returncode == 0, run.stderr
    reported, added = map(int, run.stdout.split())
    assert (reported, added) == (expected, expected - 1)


def test_more_workers_than_cores_each_get_their_share_of_threads() -> None:
    # What the connector does for 3 workers on 2 cores: hello.threads = max(1, 2 // 3) = 1.
    with WorkerProcess("dspex_worker") as worker:
        worker.hello(args={"threads": 1})
        setup = worker.call("setup", {"kind": "embed"})
        assert setup.success, setup.error
        assert setup.result["threads"] == 1
        status = Path(f"/proc/{worker.process.pid}/status")
        if status.is_file():  # one thread for the model: its session adds no pool thread
            with WorkerProcess("dspex_worker") as wider:
                wider.hello(args={"threads": 2})
                assert wider.call("setup", {"kind": "embed"}).result["threads"] == 2
                assert _threads(Path(f"/proc/{wider.process.pid}/status")) > _threads(status)


def _threads(status: Path) -> int:
    return next(int(line.split()[1]) for line in status.read_text().splitlines()
                if line.startswith("Threads:"))


def test_the_graph_is_built_once_then_read_from_the_cache(files: ModelFiles,
                                                          tmp_path: Path) -> None:
    first = graph_cache.load_graph(files, "float32", tmp_path)
    assert first.built and first.path.is_relative_to(tmp_path / "onnx")
    again = graph_cache.load_graph(files, "float32", tmp_path)
    assert not again.built and again.sha256 == first.sha256
    assert hashlib.sha256(again.path.read_bytes()).hexdigest() == first.sha256
    source = json.loads((first.path.parent / "source.json").read_text())
    assert source["model_sha256"] == files.fingerprint() and source["onnxruntime"]


def test_a_damaged_cached_graph_is_built_again(files: ModelFiles, tmp_path: Path) -> None:
    good = graph_cache.load_graph(files, "float32", tmp_path)
    with good.path.open("r+b") as f:  # a build that died half-way
        f.truncate(good.path.stat().st_size // 2)
    rebuilt = graph_cache.load_graph(files, "float32", tmp_path)
    assert rebuilt.built and rebuilt.sha256 == good.sha256


def test_the_build_is_deterministic(files: ModelFiles, tmp_path: Path,
                                    onnx_float32: OnnxEncoder) -> None:
    # Another cache, the same bytes: the sha256 README gives for the bundled model's graph.
    built = graph_cache.load_graph(files, "float32", tmp_path)
    assert built.built and built.sha256 == onnx_float32.graph.sha256


#: Run by each process of the test below: waits for the go file, then loads both graphs.
_LOAD_BOTH = """
import json, sys, time
from pathlib import Path
from dspex_worker.embed import graph_cache
from dspex_worker.embed.model_files import ModelFiles, resolve_model_dir
files = ModelFiles.load(resolve_model_dir(None))
root = Path(sys.argv[1])
while not (root / "go").exists():
    time.sleep(0.01)
graphs = [graph_cache.load_graph(files, precision, root) for precision in ("float32", "int8")]
print(json.dumps([[g.precision, g.sha256, g.built] for g in graphs]))
"""


@pytest.mark.skipif(graph_cache.fcntl is None, reason="the build lock is flock's")
def test_workers_that_start_together_on_an_empty_cache_build_each_graph_once(
        tmp_path: Path, onnx_float32: OnnxEncoder) -> None:
    processes = [subprocess.Popen([sys.executable, "-c", _LOAD_BOTH, str(tmp_path)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=child_env({})) for _ in range(3)]
    (tmp_path / "go").touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    for index, precision in enumerate(("float32", "int8")):
        seen = [result[index] for result in results]
        assert {sha for _, sha, _ in seen} == {seen[0][1]}, seen  # every process, the same graph
        assert [built for _, _, built in seen].count(True) == 1, seen  # built by one of them
    assert results[0][0][1] == onnx_float32.graph.sha256
    (directory,) = (tmp_path / "onnx").iterdir()
    assert sorted(path.name for path in directory.iterdir()) == [
        ".build.lock", "model.float32.onnx", "model.float32.onnx.sha256", "model.int8.onnx",
        "model.int8.onnx.sha256", "source.json"]  # no temporary file left behind


def test_an_unwritable_cache_is_named_in_the_error(files: ModelFiles, tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    with pytest.raises(OSError, match="DSPEX_CACHE_DIR"):
        graph_cache.load_graph(files, "float32", blocked)
    with pytest.raises(ValueError, match="precision"):
        graph_cache.load_graph(files, "float16", tmp_path)


def test_the_cache_directory_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("DSPEX_CACHE_DIR", str(tmp_path / "mine"))
    assert graph_cache.cache_root() == tmp_path / "mine"
    monkeypatch.delenv("DSPEX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert graph_cache.cache_root() == tmp_path / "xdg" / "dspex"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert graph_cache.cache_root() == Path(os.path.expanduser("~")) / ".cache" / "dspex"


def test_setup_chooses_the_precision() -> None:
    import logging

    from dspex_worker.embed.kind import EmbedKind

    kind, log = EmbedKind(), logging.getLogger("test")
    float32 = kind.load_model({}, log)
    assert float32.result["backend"] == "onnx" and float32.result["precision"] == "float32"
    assert float32.result["graph"].endswith("model.float32.onnx")
    int8 = kind.load_model({"precision": "int8", "batch_size": 8}, log)
    assert int8.result["backend"] == "onnx" and int8.result["precision"] == "int8"
    assert int8.value.batch_size == 8 and int8.result["graph"].endswith("model.int8.onnx")
    assert int8.result["graph_sha256"] != float32.result["graph_sha256"]
    refused = {
        "precision must be one of ('float32', 'int8') for backend 'onnx', was 'fp16'":
            {"precision": "fp16"},
        "precision must be one of () for backend 'openai', was 'int8'":
            {"backend": "openai", "model": "m", "precision": "int8"},
        "backend must be one of ('onnx', 'openai'), was 'numpy'": {"backend": "numpy"},
    }
    for message, args in refused.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            kind.load_model(args, log)
