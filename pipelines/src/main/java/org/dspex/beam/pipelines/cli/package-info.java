/**
 * The picocli commands of {@code dspex}: {@code embed}, {@code predict}, {@code trainset}, their
 * shared options ({@link org.dspex.beam.pipelines.cli.CommonOptions}) and the mapping of errors to
 * exit codes ({@link org.dspex.beam.pipelines.cli.ExitCodes}).
 */
package org.dspex.beam.pipelines.cli;
