package org.dspex.beam.pipelines.it;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A sentence-embedding model that costs next to nothing, for end-to-end tests about everything
 * but the model: {@code python/testing/dspex_testing/tiny_model.py} (the bundled all-MiniLM-L6-v2
 * cut to its embedding layer), shared with the scale benchmarks. The production {@code embed}
 * worker loads it from its folder like any sentence-transformers model ({@code --model DIR}) and
 * returns the real output shape, 384 floats a record, deterministically.
 */
final class TinyModel {
  private TinyModel() {}

  /** Writes the model into {@code dir} (created) and returns it ({@code python -m dspex_testing.tiny_model}). */
  static Path create(Path dir) throws IOException, InterruptedException {
    Dspex.exec(List.of(Dspex.python().toString(), "-m", "dspex_testing.tiny_model", dir.toString()), dir.getParent(),
        Map.of("PYTHONPATH", Dspex.root().resolve("python/testing").toString(), "HF_HUB_OFFLINE", "1"),
        Duration.ofMinutes(3)).expectExit(0);
    return dir;
  }
}
