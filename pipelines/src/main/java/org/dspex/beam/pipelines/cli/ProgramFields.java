package org.dspex.beam.pipelines.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.worker.RemoteHandlerException;
import org.dspex.beam.connector.worker.WorkerException;
import org.dspex.beam.connector.worker.WorkerPool;
import org.dspex.beam.transforms.DSPexPredict;
import org.dspex.beam.transforms.signature.FieldType;
import org.dspex.beam.transforms.signature.Signature;
import org.dspex.beam.transforms.signature.SignatureField;

/**
 * A program's input and output fields, learnt at launch from one worker that sets the program up
 * (the command needs the inputs to read the records, the outputs for the written columns). A
 * program that fails to load is bad usage; a worker that cannot start fails the job.
 */
final class ProgramFields {
  private ProgramFields() {}

  /** The fields of {@code predict}'s program, as a signature. */
  static Signature describe(DSPexPredict predict, String what) {
    try (WorkerPool pool = WorkerPool.create(predict.workerConfig().withWorkers(1))) {
      List<Map<String, Object>> results = pool.setupResults();
      Map<String, Object> r = results.get(results.size() - 1);
      return Signature.ofFields(fields(r.get("inputs")), fields(r.get("outputs")));
    } catch (RemoteHandlerException e) {
      throw new UsageError("cannot load " + what + ": " + ExitCodes.describe(e), e);
    } catch (WorkerException e) {
      throw new IllegalStateException("could not start a Python worker to load " + what + ": "
          + ExitCodes.describe(e), e);
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
