package org.dspex.beam.pipelines.it;

import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.util.construction.resources.PipelineResources;

/**
 * Prints, one a line, the files Beam stages to a job's workers by default (the runner's {@code
 * filesToStage} when not given): what Beam detects on this JVM's class path.
 */
public final class StagedFiles {
  private StagedFiles() {}

  /** Prints the files. */
  public static void main(String[] args) {
    PipelineResources.detectClassPathResourcesToStage(StagedFiles.class.getClassLoader(),
        PipelineOptionsFactory.create()).forEach(System.out::println);
  }
}
