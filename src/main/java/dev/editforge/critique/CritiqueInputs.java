package dev.editforge.critique;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;

import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.selfrag.Sentences;
import dev.editforge.spark.StageContext;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * What the critic is asked about, as Self-RAG's create_retrieval_data.py and create_prompt_data.py
 * lay it out: per instruction row with an output (the first user turn and the assistant turn after
 * it, from the {@code instructions} table), its sentences ({@link Sentences}) and, per sentence,
 * the top passages of its retrieval. A sentence's passages are those retrieved for {@code
 * instruction + " " + sentence} (Self-RAG's per-sentence query) when the {@code retrievals} table
 * has that query, else those retrieved for the instruction itself (or its first paragraph, the
 * alpaca instruction without its input). Both Self-RAG stages build the same items, so
 * generator-data finds every label where critique put it.
 */
final class CritiqueInputs {
  private CritiqueInputs() {}

  /** A passage as the critic sees it. */
  record Ctx(String passageId, String title, String text) implements Serializable {}

  /** One instruction with its output's sentences and each sentence's passages (top-n, in order). */
  record Item(
      String instructionId,
      String instruction,
      String output,
      List<Sentences.Sentence> sentences,
      List<List<Ctx>> passages)
      implements Serializable {}

  /** The items, and how many instruction rows had no user turn followed by an assistant turn. */
  record Loaded(List<Item> items, long withoutOutput, boolean retrievals) {}

  /** Reads the instructions (and, when present, retrievals) tables of the run, in id order. */
  static Loaded load(StageContext ctx, int topN) {
    RunDir run = ctx.runDir();
    Map<String, List<Ctx>> byQuery = new HashMap<>();
    boolean retrievals = run.manifest(Tables.RETRIEVALS).map(m -> m.isCompleted()).orElse(false);
    if (retrievals) {
      for (Row r :
          ctx.spark()
              .read()
              .parquet(run.tableUri(Tables.RETRIEVALS))
              .select(
                  col("query"),
                  expr("slice(array_sort(ctxs, (a, b) -> a.rank - b.rank), 1, " + topN + ")")
                      .as("top"))
              .collectAsList()) {
        List<Ctx> ctxs = new ArrayList<>();
        for (Row c : r.<Row>getList(1)) {
          ctxs.add(
              new Ctx(
                  c.getString(c.fieldIndex("passage_id")),
                  c.getString(c.fieldIndex("title")),
                  c.getString(c.fieldIndex("text"))));
        }
        byQuery.putIfAbsent(r.getString(0), ctxs);
      }
    }
    List<Item> items = new ArrayList<>();
    long without = 0;
    for (Row r :
        ctx.spark()
            .read()
            .parquet(run.tableUri(Tables.INSTRUCTIONS))
            .orderBy("instruction_id")
            .collectAsList()) {
      List<String[]> messages = new ArrayList<>();
      for (Row m : r.<Row>getList(r.fieldIndex("messages"))) {
        messages.add(new String[] {m.getString(0), m.getString(1)});
      }
      String[] io = instructionAndOutput(messages);
      if (io == null) {
        without++;
        continue;
      }
      items.add(item(r.getString(r.fieldIndex("instruction_id")), io[0], io[1], byQuery, topN));
    }
    return new Loaded(items, without, retrievals);
  }

  /** The first user turn and the assistant turn right after it, or null. */
  static String[] instructionAndOutput(List<String[]> messages) {
    for (int i = 0; i + 1 < messages.size(); i++) {
      if (messages.get(i)[0].equals("user") && messages.get(i + 1)[0].equals("assistant")) {
        return new String[] {messages.get(i)[1], messages.get(i + 1)[1]};
      }
    }
    return null;
  }

  static Item item(
      String id, String instruction, String output, Map<String, List<Ctx>> byQuery, int topN) {
    List<Sentences.Sentence> sentences = Sentences.segment(output);
    List<Ctx> whole = byQuery.get(instruction);
    if (whole == null) {
      int para = instruction.indexOf("\n\n");
      whole = para < 0 ? null : byQuery.get(instruction.substring(0, para));
    }
    List<List<Ctx>> passages = new ArrayList<>();
    for (Sentences.Sentence s : sentences) {
      List<Ctx> own = byQuery.get(instruction + " " + s.text());
      List<Ctx> ps = own != null ? own : whole != null ? whole : List.of();
      passages.add(ps.size() > topN ? List.copyOf(ps.subList(0, topN)) : List.copyOf(ps));
    }
    return new Item(id, instruction, output, sentences, passages);
  }
}
