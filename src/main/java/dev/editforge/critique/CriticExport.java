package dev.editforge.critique;

import dev.editforge.config.CritiqueSettings;
import dev.editforge.io.RunDir;
import dev.editforge.selfrag.CriticPrompts;
import dev.editforge.selfrag.CriticType;
import dev.editforge.selfrag.ReflectionTokens;
import dev.editforge.selfrag.Sentences;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;

/**
 * Self-RAG's critic training rows (combine_chat_gpt_reward.py): {@code {instruction, input, output,
 * task}} with the instruction and input strings of its PROMPT_DICT and the label as output.
 * retrieval → task "retrieval"; multi-retrieval → the three-way instruction and the "wo_preceding"
 * input (the same text as with preceding), task "multi_retrieval"; relevance → "relevance", a
 * {@code [Relevant]} row kept with probability {@code relevant-keep}; support → the multi ground
 * instruction and "wo_preceding" input, task "groudness" (sic, as Self-RAG's data has it); utility
 * → "utility". Rows containing "### Response:" are dropped; the rest are shuffled and the first
 * {@code dev-size} go to the dev file.
 */
final class CriticExport {
  static final String TRAIN = "selfrag_critic_train.jsonl";
  static final String DEV = "selfrag_critic_dev.jsonl";

  private CriticExport() {}

  static List<String> fileNames() {
    return List.of("exports/" + TRAIN, "exports/" + DEV);
  }

  /** The training rows of the labelled {@code critic_labels} rows, in table order. */
  static List<Map<String, String>> rows(
      List<CritiqueInputs.Item> items, List<Row> labels, CritiqueSettings cs) {
    Map<String, CritiqueInputs.Item> byId = new HashMap<>();
    items.forEach(i -> byId.put(i.instructionId(), i));
    Random rnd = new Random(cs.exportSeed());
    List<Map<String, String>> out = new ArrayList<>();
    for (Row r : labels) {
      if (r.isNullAt(10)) {
        continue;
      }
      CritiqueInputs.Item item = byId.get(r.getString(2));
      if (item == null) {
        continue;
      }
      String label = r.getString(10);
      CriticType type = CriticType.fromWire(r.getString(1));
      Integer sent = r.isNullAt(3) ? null : r.getInt(3);
      Integer p = r.isNullAt(4) ? null : r.getInt(4);
      Map<String, String> v = new HashMap<>();
      v.put("instruction", item.instruction());
      v.put("output", item.output());
      if (sent != null) {
        Sentences.Sentence s = item.sentences().get(sent);
        String preceding = Sentences.preceding(item.sentences(), sent);
        v.put("target_output", s.text());
        v.put("preceding_sentences", preceding == null ? "" : preceding);
        CritiqueInputs.Ctx c = item.passages().get(sent).get(p);
        v.put("evidence", CriticPrompts.evidence(c.title(), c.text()));
      }
      Map<String, String> row =
          switch (type) {
            case RETRIEVAL ->
                row("retrieval_instruction", "retrieval_input", v, label, "retrieval");
            case MULTI_RETRIEVAL ->
                row(
                    "multi_retrieval_three_way_instruction",
                    "multi_retrieval_three_way_input_wo_preceding",
                    v,
                    label,
                    "multi_retrieval");
            case RELEVANCE ->
                label.equals(ReflectionTokens.RELEVANT) && rnd.nextDouble() > cs.relevantKeep()
                    ? null
                    : row("relevance_instruction", "relevance_input", v, label, "relevance");
            case SUPPORT ->
                row(
                    "ground_multi_instruction",
                    "ground_multi_input_wo_preceding",
                    v,
                    label,
                    "groudness");
            case UTILITY -> row("utility_instruction", "utility_input", v, label, "utility");
          };
      if (row != null && !row.values().stream().anyMatch(x -> x.contains("### Response:"))) {
        out.add(row);
      }
    }
    return out;
  }

  private static Map<String, String> row(
      String instructionKey, String inputKey, Map<String, String> v, String label, String task) {
    Map<String, String> row = new LinkedHashMap<>();
    row.put("instruction", CriticPrompts.trainingPrompt(instructionKey));
    row.put("input", CriticPrompts.format(CriticPrompts.trainingPrompt(inputKey), v));
    row.put("output", label);
    row.put("task", task);
    return row;
  }

  /** Shuffles (seeded), splits off the dev rows and writes both files under exports/. */
  static List<Path> write(RunDir run, List<Map<String, String>> rows, int devSize, long seed) {
    List<Map<String, String>> all = new ArrayList<>(rows);
    Collections.shuffle(all, new Random(seed));
    int dev = Math.min(devSize, all.size());
    Path devFile = new Path(run.path("exports"), DEV);
    Path trainFile = new Path(run.path("exports"), TRAIN);
    jsonl(run, devFile, all.subList(0, dev));
    jsonl(run, trainFile, all.subList(dev, all.size()));
    return List.of(trainFile, devFile);
  }

  private static void jsonl(RunDir run, Path file, List<Map<String, String>> rows) {
    try (Writer w = new OutputStreamWriter(run.fs().create(file, true), StandardCharsets.UTF_8)) {
      for (Map<String, String> r : rows) {
        w.write(Json.COMPACT.writeValueAsString(r));
        w.write('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
