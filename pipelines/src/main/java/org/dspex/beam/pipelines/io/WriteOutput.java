package org.dspex.beam.pipelines.io;

import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.extensions.avro.schemas.utils.AvroUtils;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;
import org.dspex.beam.transforms.failures.ElementJson;

/**
 * Writes output rows for an {@link OutputTarget}: only the named columns, in that order (the id
 * field, the kept fields, then the model's outputs), as JSONL objects or Parquet columns (Avro
 * types from the Beam schema: STRING string, INT64 long, DOUBLE double, ARRAY&lt;FLOAT&gt;
 * list&lt;float&gt;; nullable fields optional), into shard files in the target's temporary
 * folder ({@link ShardFiles}), which the command assembles into the output after the job
 * ({@link OutputAssembly}).
 */
public final class WriteOutput extends PTransform<PCollection<Row>, POutput> {
  private static final long serialVersionUID = 1L;

  private final OutputTarget target;
  private final List<String> columns;

  /** Writes {@code columns} of each row to {@code target}. */
  public WriteOutput(OutputTarget target, List<String> columns) {
    this.target = target;
    this.columns = List.copyOf(columns);
  }

  /** The schema of the written rows: {@code columns} of {@code in}. */
  public static Schema project(Schema in, List<String> columns) {
    Schema.Builder b = Schema.builder();
    for (String c : columns) {
      b.addField(in.getField(c));
    }
    return b.build();
  }

  @Override
  public POutput expand(PCollection<Row> rows) {
    Schema out = project(rows.getSchema(), columns);
    PCollection<Row> projected = rows.apply("Columns", ParDo.of(new ProjectFn(out))).setRowSchema(out);
    if (target.format() == OutputTarget.Format.JSONL) {
      PCollection<String> lines = projected.apply("ToJson", ParDo.of(new ToJsonFn()));
      return lines.apply("Write", write(TextIO.sink()));
    }
    org.apache.avro.Schema avro = AvroUtils.toAvroSchema(out);
    PCollection<GenericRecord> records = projected
        .apply("ToAvro", ParDo.of(new ToAvroFn(avro.toString())))
        .setCoder(AvroCoder.of(avro));
    return records.apply("Write", write(parquetSink(avro)));
  }

  /** The Parquet sink of the command: standard three-level lists, which every reader takes. */
  static FileIO.Sink<GenericRecord> parquetSink(org.apache.avro.Schema avro) {
    return ParquetIO.sink(avro).withConfiguration(Map.of(EmptyOutputs.OLD_LISTS, "false"));
  }

  private <T> PTransform<PCollection<T>, ? extends POutput> write(FileIO.Sink<T> sink) {
    return ShardFiles.write(sink, target.outputShards(), target.format().extension());
  }

  /** Keeps the output columns. */
  static final class ProjectFn extends DoFn<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final Schema out;

    ProjectFn(Schema out) {
      this.out = out;
    }

    @ProcessElement
    public void process(@Element Row r, OutputReceiver<Row> o) {
      Row.Builder b = Row.withSchema(out);
      for (String f : out.getFieldNames()) {
        b.addValue(r.getValue(f));
      }
      o.output(b.build());
    }
  }

  /** A row as one JSON object. */
  static final class ToJsonFn extends DoFn<Row, String> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(@Element Row r, OutputReceiver<String> o) {
      o.output(Json.write(ElementJson.toMap(r)));
    }
  }

  /** A row as an Avro record. */
  static final class ToAvroFn extends DoFn<Row, GenericRecord> {
    private static final long serialVersionUID = 1L;
    private final String schemaJson;
    private transient org.apache.avro.Schema schema;

    ToAvroFn(String schemaJson) {
      this.schemaJson = schemaJson;
    }

    @Setup
    public void setup() {
      schema = new org.apache.avro.Schema.Parser().parse(schemaJson);
    }

    @ProcessElement
    public void process(@Element Row r, OutputReceiver<GenericRecord> o) {
      o.output(AvroUtils.toGenericRecord(r, schema));
    }
  }
}
