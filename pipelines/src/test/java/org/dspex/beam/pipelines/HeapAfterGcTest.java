package org.dspex.beam.pipelines;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.MemoryUsage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When the heap's state after collections says that a runner swallowed an OutOfMemoryError. */
class HeapAfterGcTest {
  private static MemoryUsage used(long used, long max) {
    return new MemoryUsage(0, used, Math.max(used, 1), max);
  }

  @Test
  void givenAPoolAtNinetyPercentOfItsMaximum_thenNearlyFull() {
    assertTrue(HeapAfterGc.nearlyFull(List.of(used(10, 100), used(90, 100))));
  }

  @Test
  void givenPoolsBelowOrWithoutAMaximum_thenNotFull() {
    assertFalse(HeapAfterGc.nearlyFull(List.of(used(89, 100), used(500, -1))));
    assertFalse(HeapAfterGc.nearlyFull(List.of()));
  }

  @Test
  void givenThisTestJvm_thenItsHeapIsNotFull() {
    assertFalse(HeapAfterGc.nearlyFull());
  }
}
