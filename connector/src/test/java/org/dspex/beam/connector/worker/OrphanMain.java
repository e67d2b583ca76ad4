package org.dspex.beam.connector.worker;

/**
 * The child JVM of {@link NoOrphansTest}: starts a pool of two workers, prints their pids on one
 * line ({@code PIDS 12 34}), then waits to be killed.
 */
public final class OrphanMain {
  private OrphanMain() {}

  public static void main(String[] args) throws Exception {
    WorkerPool pool = WorkerPool.create(WorkerTestSupport.config().withWorkers(2));
    while (pool.pids().size() < 2) {
      Thread.sleep(10);
    }
    StringBuilder line = new StringBuilder("PIDS");
    for (long pid : pool.pids()) {
      line.append(' ').append(pid);
    }
    System.out.println(line);
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
