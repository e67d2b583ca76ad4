package org.dspex.beam.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * A direct peer of a transform benchmark: a {@code bench/py} script run by an interpreter (the
 * worker venv's, or a bench-only venv's), with its arguments, named in the results by {@code name}.
 */
record Peer(String name, Path python, String script, List<String> args) {
  Peer {
    args = List.copyOf(args);
  }
}
