"""The ONNX Runtime peer of ``bench/run embed``: the same graph DSPexEmbed runs, called directly.

Usage: ``embed_onnx_direct.py CORPUS_JSONL --texts 2000 --threads 2 --batch-size 32``

What a user who runs ONNX Runtime in a plain script writes: the model's ``tokenizer.json``
through the ``tokenizers`` wheel, one ``InferenceSession`` with ``--threads`` intra-op threads
over the float32 graph (the file DSPex's worker built and runs, from its cache), and the
texts encoded as ``SentenceTransformer.encode`` does it: all of them sorted by length, in
batches of ``--batch-size`` padded to their longest text, then L2-normalised. Nothing of
DSPex runs in the timed passes; only the graph file comes from its cache.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from passes import limit_threads, peer_arguments, run_embed_peer


def main() -> int:
    args = peer_arguments(__doc__.splitlines()[0]).parse_args()
    limit_threads(args.threads)

    def load():
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from dspex_worker.embed.graph_cache import load_graph
        from dspex_worker.embed.model_files import ModelFiles, resolve_model_dir

        files = ModelFiles.load(resolve_model_dir(None))
        graph = load_graph(files, "float32")
        tokenizer = Tokenizer.from_file(str(files.directory / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=files.max_seq_length)
        tokenizer.enable_padding(pad_id=files.pad_id)
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        session = ort.InferenceSession(str(graph.path), options, providers=["CPUExecutionProvider"])

        def encode(texts: Sequence[str]) -> None:
            order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
            out = np.zeros((len(texts), files.hidden), dtype=np.float32)
            for start in range(0, len(order), args.batch_size):
                chunk = order[start:start + args.batch_size]
                encodings = tokenizer.encode_batch([texts[i] for i in chunk])
                feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
                out[chunk] = session.run(None, feed)[0]
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

        return encode

    return run_embed_peer(args, load, {"peer": "onnx_direct", "graph": "float32"})


if __name__ == "__main__":
    sys.exit(main())
