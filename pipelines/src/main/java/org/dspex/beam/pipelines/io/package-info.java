/**
 * Reading input files into typed rows that remember their line and original record, and writing
 * outputs (JSONL or Parquet, one file or shards) and the failures file.
 */
package org.dspex.beam.pipelines.io;
