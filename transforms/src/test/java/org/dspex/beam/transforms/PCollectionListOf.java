package org.dspex.beam.transforms;

import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TypeDescriptors;

/** Test helper: output and failures as one collection of element markers, for "every element once" checks. */
final class PCollectionListOf {
  private PCollectionListOf() {}

  static PCollection<String> flatten(DSPexResult r) {
    PCollection<String> ok = r.output().apply("OkMarker", MapElements.into(TypeDescriptors.strings()).via(x -> "ok"));
    PCollection<String> failed = r.failures().apply("FailedMarker", MapElements.into(TypeDescriptors.strings())
        .via(x -> "failed"));
    return PCollectionList.of(ok).and(failed).apply("Both", Flatten.pCollections());
  }
}
