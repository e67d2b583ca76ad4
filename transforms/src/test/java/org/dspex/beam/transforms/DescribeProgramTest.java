package org.dspex.beam.transforms;

import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import org.dspex.beam.connector.worker.RemoteHandlerException;
import org.dspex.beam.connector.worker.WorkerStartException;
import org.junit.Test;

/**
 * {@link DSPexPredict#describeProgram()} tells its two failures apart by type, with real workers: a
 * program that does not load ({@link ProgramLoadException}, the program's fault) and no worker at
 * all ({@link WorkerUnavailableException}, the environment's), each keeping the connector's cause.
 */
public class DescribeProgramTest {
  @Test
  public void givenAProgramWhoseModuleDoesNotExist_thenProgramLoadExceptionWithThePythonError() {
    DSPexPredict p = DSPexPredict.ofProgram("dspex_no_such_module:build").withModel("openai/unused")
        .withPython(TestSupport.python());
    ProgramLoadException e = assertThrows(ProgramLoadException.class, p::describeProgram);
    assertTrue(e.getMessage(), e.getMessage().contains("dspex_no_such_module"));
    assertTrue(String.valueOf(e.getCause()), causedBy(e, RemoteHandlerException.class));
  }

  @Test
  public void givenNoUsableInterpreter_thenWorkerUnavailableExceptionNamingIt() {
    DSPexPredict p = DSPexPredict.ofProgram("my_pkg.qa:build").withModel("openai/unused")
        .withPython("/nonexistent/python3");
    WorkerUnavailableException e = assertThrows(WorkerUnavailableException.class, p::describeProgram);
    assertTrue(e.getMessage(), e.getMessage().contains("/nonexistent/python3"));
    assertTrue(String.valueOf(e.getCause()), causedBy(e, WorkerStartException.class));
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }
}
