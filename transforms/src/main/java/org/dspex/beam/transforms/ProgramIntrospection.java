package org.dspex.beam.transforms;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.worker.RemoteHandlerException;
import org.dspex.beam.connector.worker.WorkerConfig;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.transforms.signature.FieldType;
import org.dspex.beam.transforms.signature.Signature;
import org.dspex.beam.transforms.signature.SignatureField;

/**
 * Learns a program's inputs and outputs when the pipeline is built, since Beam needs the output
 * schema then: starts one worker, runs the program's {@code setup}, reads {@code inputs}/{@code
 * outputs} from its result, and stops the worker.
 */
final class ProgramIntrospection {
  private ProgramIntrospection() {}

  /**
   * The fields a worker set up with {@code config} reports for its program. A handler that answered
   * with an error (the pool reports a failed {@code setup} as a start failure caused by it) is the
   * program's fault; any other worker fault means that no worker served.
   */
  static Signature read(WorkerConfig config) throws ProgramLoadException, WorkerUnavailableException {
    try (WorkerPool pool = WorkerPool.create(config.withWorkers(1))) {
      List<Map<String, Object>> results = pool.setupResults();
      Map<String, Object> r = results.get(results.size() - 1);
      return Signature.ofFields(fields(r.get("inputs")), fields(r.get("outputs")));
    } catch (WorkerException e) {
      if (handlerError(e)) {
        throw new ProgramLoadException(e.getMessage(), e);
      }
      throw new WorkerUnavailableException(e.getMessage(), e);
    }
  }

  private static boolean handlerError(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof RemoteHandlerException) {
        return true;
      }
    }
    return false;
  }

  /** As {@link #read}, for {@code expand}: a failure says how to do without it. */
  static Signature describe(WorkerConfig config, Object program) {
    return describe(config, "DSPexPredict.ofProgram(" + program + ")", true);
  }

  /** As {@link #describe(WorkerConfig, Object)}, for the transform {@code what}, e.g. {@code DSPexOptimize.ofProgram(m:f)}. */
  static Signature describe(WorkerConfig config, String what) {
    return describe(config, what, false);
  }

  private static Signature describe(WorkerConfig config, String what, boolean canGiveOutputs) {
    try {
      return read(config);
    } catch (ProgramLoadException | WorkerUnavailableException e) {
      throw new IllegalStateException(what + ": could not read the program's fields at pipeline construction ("
          + e.getMessage() + "); fix that" + (canGiveOutputs ? ", or give them with withOutputSchema(...)" : ""), e);
    }
  }

  private static List<SignatureField> fields(Object list) {
    List<SignatureField> out = new ArrayList<>();
    if (list instanceof List) {
      for (Object o : (List<?>) list) {
        if (o instanceof Map) {
          Map<?, ?> m = (Map<?, ?>) o;
          Object type = m.get("type");
          out.add(new SignatureField(String.valueOf(m.get("name")),
              FieldType.fromWorker(type == null ? null : String.valueOf(type))));
        }
      }
    }
    return out;
  }
}
