/**
 * Reading input files into typed rows that remember their line and original record, and writing
 * outputs (JSONL or Parquet, one file or shards) and the failures file. Files are Beam resource
 * specs, read, written, checked and deleted through Beam's {@code FileSystems} ({@link
 * org.dspex.beam.pipelines.io.BeamFiles}): local paths, or any scheme whose Beam file system is on
 * the classpath.
 */
package org.dspex.beam.pipelines.io;
