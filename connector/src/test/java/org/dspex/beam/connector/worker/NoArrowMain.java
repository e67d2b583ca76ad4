package org.dspex.beam.connector.worker;

import java.util.List;
import java.util.Map;
import org.dspex.beam.connector.codec.ContentFormat;
import org.dspex.beam.connector.protocol.FormatChoice;
import org.dspex.beam.connector.protocol.Request;

/**
 * The child JVM of {@link ArrowUnavailableTest}, started without Arrow's {@code --add-opens}: starts
 * a pool of one worker, sends it an Arrow body, and prints how that ended on one line ({@code
 * ANSWERED}, or {@code FAILED} with the exception's class, reason and message).
 */
public final class NoArrowMain {
  private NoArrowMain() {}

  public static void main(String[] args) {
    try (WorkerPool pool = WorkerPool.create(WorkerTestSupport.config().withWorkers(1))) {
      pool.call(Request.of("echo").withBody("rows", List.of(Map.of("a", 1L)), FormatChoice.forced(ContentFormat.ARROW)));
      System.out.println("ANSWERED");
    } catch (WorkerStartException e) {
      System.out.println("FAILED " + e.getClass().getSimpleName() + " " + e.reason() + " " + e.getMessage());
    } catch (Exception e) {
      System.out.println("FAILED " + e.getClass().getSimpleName() + " " + e.getMessage());
    }
    System.out.flush();
  }
}
