/**
 * The picocli commands of {@code dspex}: the entry point {@link
 * org.dspex.beam.pipelines.cli.DSPexCli}, {@code embed}, {@code predict}, {@code trainset}, their
 * shared options ({@link org.dspex.beam.pipelines.cli.CommonOptions}) and the mapping of errors and
 * job outcomes to exit codes ({@link org.dspex.beam.pipelines.cli.ExitCodes}). The top of the
 * command's package graph: nothing below imports it.
 */
package org.dspex.beam.pipelines.cli;
