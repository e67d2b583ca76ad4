package org.dspex.beam.pipelines.optimize;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.dspex.beam.pipelines.Job;
import org.dspex.beam.pipelines.io.FailureRecords;
import org.dspex.beam.pipelines.io.InputProbe;
import org.dspex.beam.pipelines.io.Json;
import org.dspex.beam.pipelines.io.OutputTarget;
import org.dspex.beam.pipelines.io.ReadRecords;
import org.dspex.beam.pipelines.io.RecordLayout;
import org.dspex.beam.pipelines.io.WriteFailures;
import org.dspex.beam.pipelines.io.ShardFiles;
import org.dspex.beam.transforms.DSPexOptimize;
import org.dspex.beam.transforms.DSPexResult;
import org.dspex.beam.transforms.optimize.OptimizeResult;

/**
 * The {@code dspex optimize} pipeline: read the trainset (and devset) records of {@code layout}
 * (records without an input or label field, or with one of another type, fail at read), compile
 * them with {@code optimize}, write the compiled program for the output file (DSPy's JSON, as {@code
 * program.save} writes it), the rest of the result row for {@link #summaryFile}, and every unusable
 * example for the failures file, as shard files in the target's temporary folder, which the command
 * assembles and puts in place after the job ({@code OutputAssembly}, {@code JobRunner#replace}).
 */
public final class OptimizeStep {
  private OptimizeStep() {}

  /** The file next to the program with the rest of the result row ({@code <output>.optimize.json}). */
  public static String summaryFile(String output) {
    return output + OutputTarget.OPTIMIZE_SUFFIX;
  }

  /** Adds the job to {@code p}. */
  public static void build(Pipeline p, DSPexOptimize optimize, RecordLayout layout, InputProbe trainset,
      @Nullable InputProbe devset, OutputTarget target, int blockRecords) {
    PCollectionTuple train = read(p, "ReadTrainset", trainset, layout, blockRecords);
    PCollectionList<Row> failures = PCollectionList.of(train.get(ReadRecords.FAILURES));
    DSPexOptimize t = optimize;
    if (devset != null) {
      PCollectionTuple dev = read(p, "ReadDevset", devset, layout, blockRecords);
      failures = failures.and(dev.get(ReadRecords.FAILURES));
      t = t.withDevSet(dev.get(ReadRecords.ROWS));
    }
    DSPexResult r = train.get(ReadRecords.ROWS).apply("Optimize", t);
    PCollection<Row> result = r.output();
    result.apply("ProgramJson", MapElements.into(TypeDescriptors.strings())
            .via(row -> row.getString(OptimizeResult.PROGRAM_JSON)))
        .apply("WriteProgram", ShardFiles.write(TextIO.sink(), target.outputShards(), ".json"));
    result.apply("Summary", MapElements.into(TypeDescriptors.strings()).via(OptimizeStep::summary))
        .apply("WriteSummary", ShardFiles.write(TextIO.sink(), target.optimizeResultShards(), ".json"));
    failures.and(Job.ModelOutput.failures(r.failures()))
        .apply("AllFailures", Flatten.pCollections()).setRowSchema(FailureRecords.SCHEMA)
        .apply("WriteFailures", new WriteFailures(target));
  }

  private static PCollectionTuple read(Pipeline p, String name, InputProbe input, RecordLayout layout,
      int blockRecords) {
    return p.apply(name, ReadRecords.of(input, layout).withBlockRecords(blockRecords));
  }

  /** The result row without the program, as one line of JSON. */
  static String summary(Row row) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (Schema.Field f : row.getSchema().getFields()) {
      if (!f.getName().equals(OptimizeResult.PROGRAM_JSON)) {
        m.put(f.getName(), row.getValue(f.getName()));
      }
    }
    return Json.write(m);
  }
}
