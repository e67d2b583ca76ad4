package org.dspex.beam.dataflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.beam.model.pipeline.v1.RunnerApi;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;
import org.apache.beam.runners.dataflow.util.DataflowTemplateJob;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory;
import org.apache.beam.sdk.extensions.gcp.storage.NoopPathValidator;

/**
 * The real DataflowRunner, offline: in template mode it writes the job it would submit into files
 * instead of calling the service, and with a path validator and a credential factory that do
 * nothing it needs neither a network nor credentials. Everything it writes goes under one folder.
 */
final class OfflineDataflow {
  /** The worker image the jobs name ({@code --sdkContainerImage}); never pulled here. */
  static final String IMAGE = "us-central1-docker.pkg.dev/offline-test/dspex/dspex-worker:test";

  private final Path dir;
  private int translations;

  /** Translations into {@code dir} (a test's temporary folder). */
  OfflineDataflow(Path dir) {
    this.dir = dir;
  }

  /**
   * The Beam options (after the command's {@code --}) of an offline job: project and region as the
   * runner requires them, local temp and staging folders, no validation of either, no credentials,
   * a one-entry jar to stage in place of the test's class path (240 jars copied per translation), and
   * the worker image.
   */
  List<String> options() throws IOException {
    Path stage = dir.resolve("stage.jar");
    if (!Files.exists(stage)) {
      try (OutputStream out = Files.newOutputStream(stage); ZipOutputStream zip = new ZipOutputStream(out)) {
        zip.putNextEntry(new ZipEntry("dspex-translation-test.txt"));
        zip.closeEntry();
      }
    }
    return List.of("--project=offline-test", "--region=us-central1", "--jobName=dspex-translation-test",
        "--tempLocation=" + dir.resolve("temp"), "--stagingLocation=" + dir.resolve("staging"),
        "--pathValidatorClass=" + NoopPathValidator.class.getName(),
        "--credentialFactoryClass=" + NoopCredentialFactory.class.getName(),
        "--filesToStage=" + stage, "--sdkContainerImage=" + IMAGE);
  }

  /** Runner v1's job: the template's JSON, with its {@code steps}. */
  JsonNode v1(Pipeline p) throws IOException {
    DataflowPipelineOptions o = template(p, List.of());
    return new ObjectMapper().readTree(Path.of(o.getTemplateLocation()).toFile());
  }

  /** Runner v2's job: the portable pipeline proto the runner staged (the template has no steps then). */
  RunnerApi.Pipeline v2(Pipeline p) throws IOException {
    DataflowPipelineOptions o = template(p, List.of("use_runner_v2"));
    return RunnerApi.Pipeline.parseFrom(Files.readAllBytes(Path.of(o.getPipelineUrl())));
  }

  /**
   * Runs {@code p} with a template location: the one option the command refuses (a template would
   * run the job without the command, which assembles the output after it), set here on the built
   * pipeline's options because it is what makes the runner translate without submitting.
   */
  private DataflowPipelineOptions template(Pipeline p, List<String> experiments) {
    DataflowPipelineOptions o = p.getOptions().as(DataflowPipelineOptions.class);
    o.setTemplateLocation(dir.resolve("template-" + (++translations) + ".json").toString());
    List<String> all = new ArrayList<>(o.getExperiments() == null ? List.of() : o.getExperiments());
    all.addAll(experiments);
    o.setExperiments(all);
    PipelineResult r = p.run();
    if (!(r instanceof DataflowTemplateJob)) {
      throw new AssertionError("the runner did not write a template but returned " + r);
    }
    return o;
  }
}
