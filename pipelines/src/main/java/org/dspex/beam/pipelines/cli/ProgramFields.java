package org.dspex.beam.pipelines.cli;

import org.dspex.beam.pipelines.JobSettings;
import org.dspex.beam.pipelines.UsageError;
import org.dspex.beam.transforms.DSPexProgramTransform;
import org.dspex.beam.transforms.ProgramLoadException;
import org.dspex.beam.transforms.WorkerUnavailableException;
import org.dspex.beam.transforms.signature.Signature;

/**
 * A program's input and output fields, learnt at launch from one worker that sets the program up
 * (the command needs the inputs to read the records, the outputs for the written columns). A
 * program that fails to load is bad usage; a worker that cannot start fails the job.
 */
final class ProgramFields {
  private ProgramFields() {}

  /**
   * The fields of {@code transform}'s program, as a signature, from a worker on this machine (with
   * its interpreter, whichever the job's workers use).
   */
  static <T extends DSPexProgramTransform<T>> Signature describe(JobSettings settings, T transform, String what) {
    try {
      return settings.withLocalPython(transform).describeProgram();
    } catch (ProgramLoadException e) {
      throw new UsageError("cannot load " + what + ": " + ExitCodes.describe(e), e);
    } catch (WorkerUnavailableException e) {
      throw new IllegalStateException("could not start a Python worker to load " + what + ": "
          + ExitCodes.describe(e), e);
    }
  }
}
