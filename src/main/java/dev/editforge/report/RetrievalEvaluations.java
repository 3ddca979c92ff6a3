package dev.editforge.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.io.Ids;
import dev.editforge.io.RunDir;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * {@code <run-dir>/_evaluations/retrieval-<id>.json}: what {@code editforge evaluate-retrieval}
 * measured, one file per query set (a rerun on the same queries replaces it), so the report can
 * show recall@k without recomputing it. Not a table: no stage reads it. Stateless.
 */
public final class RetrievalEvaluations {
  static final String DIR = "_evaluations";

  private RetrievalEvaluations() {}

  /** Writes (or replaces) the record of one evaluation; returns where. */
  public static Path record(RunDir run, RunReport.RetrievalEval e) {
    ObjectNode j = Json.MAPPER.createObjectNode();
    j.put("queries", e.queries());
    j.put("evaluated_at", e.evaluatedAt());
    j.put("query_count", e.queryCount());
    j.put("with_answers", e.withAnswers());
    j.put("with_gold", e.withGold());
    ArrayNode ks = j.putArray("ks");
    e.ks().forEach(ks::add);
    ArrayNode modes = j.putArray("modes");
    for (RunReport.ModeResult m : e.modes()) {
      ObjectNode mode = modes.addObject();
      mode.put("mode", m.mode());
      numbers(mode.putArray("accuracy"), m.accuracy());
      numbers(mode.putArray("recall"), m.recall());
    }
    Path file = new Path(run.path(DIR), "retrieval-" + Ids.of(e.queries()) + ".json");
    run.writeString(file, Json.pretty(j));
    return file;
  }

  /** JSON has no NaN: an unmeasured value is null. */
  private static void numbers(ArrayNode out, List<Double> values) {
    for (double v : values) {
      if (Double.isNaN(v)) {
        out.addNull();
      } else {
        out.add(v);
      }
    }
  }

  /** Every recorded evaluation of the run, oldest first; none when it was never evaluated. */
  public static List<RunReport.RetrievalEval> read(RunDir run) {
    Path dir = run.path(DIR);
    List<RunReport.RetrievalEval> out = new ArrayList<>();
    try {
      if (!run.fs().exists(dir)) {
        return out;
      }
      for (FileStatus s : run.fs().listStatus(dir)) {
        String name = s.getPath().getName();
        if (name.startsWith("retrieval-") && name.endsWith(".json")) {
          out.add(parse(Json.MAPPER.readTree(run.readString(s.getPath()))));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir, e);
    }
    out.sort(
        Comparator.comparing(
            RunReport.RetrievalEval::evaluatedAt, Comparator.nullsLast(Comparator.naturalOrder())));
    return out;
  }

  static RunReport.RetrievalEval parse(JsonNode j) {
    List<Integer> ks = new ArrayList<>();
    j.path("ks").forEach(k -> ks.add(k.asInt()));
    List<RunReport.ModeResult> modes = new ArrayList<>();
    for (JsonNode m : j.path("modes")) {
      modes.add(
          new RunReport.ModeResult(
              m.path("mode").asText(), doubles(m.path("accuracy")), doubles(m.path("recall"))));
    }
    return new RunReport.RetrievalEval(
        j.path("queries").asText(),
        j.path("evaluated_at").asText(null),
        j.path("query_count").asInt(),
        j.path("with_answers").asInt(),
        j.path("with_gold").asInt(),
        ks,
        modes);
  }

  private static List<Double> doubles(JsonNode a) {
    List<Double> out = new ArrayList<>();
    a.forEach(v -> out.add(v.isNumber() ? v.asDouble() : Double.NaN));
    return out;
  }
}
