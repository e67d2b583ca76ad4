package org.dspex.beam.pipelines.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The last step of a job that ran to its end: its staged files ({@link OutputTarget#staged})
 * take the place of the output's files, each by a rename, failures file first and the output
 * last; an output file the job did not stage (trainset's input keys after another command) is
 * deleted, since it described the replaced output. Until then the previous output stays as it
 * was, whatever happens to the job.
 *
 * <p>Locally a file replaces its predecessor in one atomic rename; a shards folder (or a file
 * replacing a folder, or the reverse) moves the old one aside into the temporary folder first, so
 * that the output's name is without a file only between two renames. On an object store each
 * object is copied and the old ones deleted, as the file system renames.
 */
public final class ReplaceOutput {
  private ReplaceOutput() {}

  /** Replaces {@code target}'s files with those of {@code staged} (its {@link OutputTarget#staged}). */
  public static void replace(OutputTarget staged, OutputTarget target) throws IOException {
    List<String> from = staged.files();
    List<String> to = target.files();
    for (int i = 0; i < from.size(); i++) {
      boolean output = i == from.size() - 1;
      if (BeamFiles.isLocal(to.get(i))) {
        replaceLocal(Path.of(from.get(i)), Path.of(to.get(i)), Path.of(BeamFiles.resource(target.temp(), true)
            .toString()).resolve("replaced-" + i));
      } else if (!BeamFiles.exists(from.get(i))) {
        BeamFiles.delete(to.get(i));
      } else {
        BeamFiles.delete(to.get(i));
        if (output && target.shards() > 0) {
          BeamFiles.renameFolder(from.get(i), to.get(i));
        } else {
          BeamFiles.rename(from.get(i), to.get(i));
        }
      }
    }
  }

  private static void replaceLocal(Path from, Path to, Path aside) throws IOException {
    if (!Files.exists(from)) {
      BeamFiles.delete(to.toString());
      return;
    }
    if (!Files.isDirectory(from) && !Files.isDirectory(to)) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    boolean old = Files.exists(to, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    if (old) {
      Files.move(to, aside, StandardCopyOption.ATOMIC_MOVE);
    }
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      if (old) {
        Files.move(aside, to, StandardCopyOption.ATOMIC_MOVE);
      }
      throw e;
    }
    if (old) {
      BeamFiles.delete(aside.toString());
    }
  }
}
