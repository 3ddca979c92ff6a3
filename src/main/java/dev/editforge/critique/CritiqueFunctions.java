package dev.editforge.critique;

import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.TextGenerator;
import dev.editforge.selfrag.CriticReplies;
import dev.editforge.selfrag.CriticType;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** The Spark function of {@code critique}: asks the judge and parses the replies, per partition. */
final class CritiqueFunctions {
  private CritiqueFunctions() {}

  /**
   * Asks every task of a partition, {@code batch} at a time (the remote client keeps at most its
   * cap in flight; the local runtime decodes a batch together), and returns one {@code
   * critic_labels} row per task: labelled, or with the reason it is not (a failed call, an
   * unparseable reply).
   */
  static final class Ask implements FlatMapFunction<Iterator<CriticTask>, Row> {
    private final JudgeSpec spec;
    private final int batch;

    Ask(JudgeSpec spec, int batch) {
      this.spec = spec;
      this.batch = batch;
    }

    @Override
    public Iterator<Row> call(Iterator<CriticTask> tasks) {
      List<Row> out = new ArrayList<>();
      if (!tasks.hasNext()) {
        return out.iterator();
      }
      SamplingParams sampling =
          new SamplingParams(
              spec.maxNewTokens(), spec.temperature(), 1.0, 0, 1, List.of(), List.of(), 0L);
      try (TextGenerator judge = spec.open()) {
        List<CriticTask> chunk = new ArrayList<>(batch);
        while (tasks.hasNext()) {
          chunk.add(tasks.next());
          if (chunk.size() == batch || !tasks.hasNext()) {
            List<GenerationRequest> requests = new ArrayList<>(chunk.size());
            for (CriticTask t : chunk) {
              requests.add(
                  spec.chat()
                      ? GenerationRequest.chat(
                          t.labelId(), List.of(ChatMessage.user(t.prompt())), sampling)
                      : GenerationRequest.text(t.labelId(), t.prompt(), sampling));
            }
            List<GenerationResult> results = judge.generate(requests);
            for (int i = 0; i < chunk.size(); i++) {
              out.add(row(chunk.get(i), results.get(i), spec.name()));
            }
            chunk.clear();
          }
        }
      }
      return out.iterator();
    }
  }

  static Row row(CriticTask t, GenerationResult r, String model) {
    String raw = null;
    String parsed = null;
    String label = null;
    String error;
    if (!r.ok()) {
      error = "judge call failed: " + r.error();
    } else if (r.completions().isEmpty()) {
      error = "judge call failed: no completion in the reply";
    } else {
      raw = r.completions().get(0).text();
      CriticReplies.Parsed p = CriticReplies.parse(CriticType.fromWire(t.type()), raw);
      parsed = p.parsed();
      label = p.label();
      error = p.error();
    }
    return RowFactory.create(
        t.labelId(),
        t.type(),
        t.instructionId(),
        t.sentIdx(),
        t.pIdx(),
        t.passageId(),
        t.template(),
        t.prompt(),
        raw,
        parsed,
        label,
        error,
        model);
  }
}
