package org.dspex.beam.pipelines.progress;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.dspex.beam.pipelines.io.FirstFailures;

/**
 * A finished job's failures, for the summary and the exit code: records by error type, from the
 * job's own counters ({@link JobCounters#FAILED_PREFIX}{@code <type>}), never from re-reading the
 * failures file, and the first few messages of its failures ({@link FirstFailures}).
 * Immutable.
 *
 * @param byType records per error type, most frequent first
 * @param first the first {@value FirstFailures#COUNT} failures as {@code line N: Type: message}
 */
public record FailureTally(Map<String, Long> byType, List<String> first) {
  /**
   * The tally of a finished job: the final metrics' counts by type, or the JVM-local ones where
   * those hold more (a runner whose metrics cannot be read), as {@link ProgressSource#last} does.
   */
  public static FailureTally of(PipelineResult result, String jobId, List<String> first) {
    Map<String, Long> metrics = new TreeMap<>();
    try {
      MetricsFilter f = MetricsFilter.builder().build();
      for (MetricResult<Long> c : result.metrics().queryMetrics(f).getCounters()) {
        String name = c.getName().getName();
        if (JobCounters.NAMESPACE.equals(c.getName().getNamespace()) && name.startsWith(JobCounters.FAILED_PREFIX)) {
          metrics.merge(name.substring(JobCounters.FAILED_PREFIX.length()), c.getAttempted(), Long::sum);
        }
      }
    } catch (RuntimeException e) {
      metrics.clear();
    }
    Map<String, Long> local = JobCounters.localByType(jobId);
    return of(sum(metrics) >= sum(local) ? metrics : local, first);
  }

  /** The tally of {@code counts} by type, sorted most frequent first. */
  public static FailureTally of(Map<String, Long> counts, List<String> first) {
    Map<String, Long> sorted = new LinkedHashMap<>();
    counts.entrySet().stream().filter(e -> e.getValue() > 0)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return new FailureTally(sorted, List.copyOf(first));
  }

  /** Records of every type. */
  public long total() {
    return sum(byType);
  }

  /** Records of every type but {@code excluded} (e.g. trainset's rejections, which are no errors). */
  public long totalExcept(Set<String> excluded) {
    return byType.entrySet().stream().filter(e -> !excluded.contains(e.getKey()))
        .mapToLong(Map.Entry::getValue).sum();
  }

  private static long sum(Map<String, Long> counts) {
    return counts.values().stream().mapToLong(Long::longValue).sum();
  }
}
