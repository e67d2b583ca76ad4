package org.dspex.beam.connector.worker;

import java.io.IOException;
import java.util.List;
import org.dspex.beam.connector.protocol.Request;

/**
 * The child JVM of {@link ScratchRootTest}: starts a pool of one worker, prints this JVM's roots
 * and its worker's temporary directory on one line ({@code ROOTS <disk> <memory> <worker temp>}),
 * then runs until its stdin ends and exits normally (its shutdown hook runs), unless it is killed.
 */
public final class ScratchRootMain {
  private ScratchRootMain() {}

  public static void main(String[] args) throws Exception {
    WorkerPool pool = WorkerPool.create(WorkerTestSupport.config());
    Object temp = pool.call(Request.of("env").withArg("names", List.of(WorkerLaunch.TEMP_DIR_ENV)))
        .resultMap().get(WorkerLaunch.TEMP_DIR_ENV);
    System.out.println("ROOTS " + ScratchRoot.onDisk().path() + " " + ScratchRoot.inMemory().path() + " " + temp);
    System.out.flush();
    try {
      while (System.in.read() >= 0) {
        // Until the parent closes our stdin.
      }
    } catch (IOException e) {
      // The parent is gone: exit as well.
    }
    System.exit(0);
  }
}
