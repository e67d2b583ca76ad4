/**
 * The jobs of the {@code dspex} command, as Beam pipelines: a {@link org.dspex.beam.pipelines.Job}
 * (what a subcommand builds), the {@link org.dspex.beam.pipelines.JobSettings} every subcommand
 * shares, and the {@link org.dspex.beam.pipelines.JobRunner} that reads, runs the model, writes,
 * reports progress and tells how the job went. Bad usage is a {@link
 * org.dspex.beam.pipelines.UsageError}.
 *
 * <p>Packages, each depending only on those after it: {@code cli} (the picocli commands and the
 * entry point {@code cli.DSPexCli}, exit codes), {@code trainset} (the labelling job's Java side),
 * this package, {@code progress} (console progress and the summary), {@code io} (readers and
 * writers). The command reaches the connector only through the transforms.
 */
package org.dspex.beam.pipelines;
