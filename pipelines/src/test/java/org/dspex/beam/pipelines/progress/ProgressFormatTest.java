package org.dspex.beam.pipelines.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The progress lines. */
class ProgressFormatTest {
  @Test
  void givenAKnownTotal_thenBarPercentRateAndEta() {
    Snapshot s = new Snapshot(2000, 345, 0, 0, 0);
    assertEquals("[############..................]  2,345/5,852  40%  235/s  ETA 0:15  345 failed",
        ProgressFormat.bar(s, 5852, 10));
    assertEquals("dspex: 2,345/5,852 records (40%), 235/s, ETA 0:15, 345 failed",
        ProgressFormat.plain(s, 5852, 10));
  }

  @Test
  void givenNoTotal_thenCountsAndRateOnly() {
    Snapshot s = new Snapshot(12, 0, 0, 0, 0);
    assertEquals("12  3.0/s", ProgressFormat.bar(s, -1, 4));
    assertEquals("dspex: 12 records, 3.0/s, 0 failed", ProgressFormat.plain(s, -1, 4));
  }

  @Test
  void givenNoCountsFromTheRunnerYet_thenTheTimeRunningAndWhy() {
    assertEquals("running 1:05  (no record counts from the runner yet)", ProgressFormat.waitingBar(65.2));
    assertEquals("dspex: running for 1:05, no record counts from the runner yet", ProgressFormat.waitingPlain(65.2));
  }

  @Test
  void durationsReadAsClockTimes() {
    assertEquals("0:07", ProgressFormat.duration(7));
    assertEquals("1:02:03", ProgressFormat.duration(3723));
  }
}
