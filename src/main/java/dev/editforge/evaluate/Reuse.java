package dev.editforge.evaluate;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.judge.Judge;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;

/**
 * Per-article reuse for evaluate (issue 18). The committed {@code evaluation/} keeps, in {@value
 * #FILE} (hidden from the output's readers, like {@code _rejects/}), each article's answers and
 * verdicts of both models with the {@link ReuseKeys} they were made under. A rerun takes a model's
 * answers to an article when that key is unchanged, and its verdicts too when the verdict key is;
 * it asks the models only the rest. Pure apart from {@link #read} and {@link #write}; not
 * thread-safe.
 */
final class Reuse {
  static final String FILE = "_reuse.json";

  /** One article as stored: per side its answer key, answers and verdicts; and the verdict key. */
  record Stored(
      List<String> answerKeys,
      String verdictKey,
      List<List<String>> answers,
      List<List<Boolean>> correct) {}

  private final List<List<Integer>> byArticle;
  private final List<String> articleIds;
  private final ReuseKeys keys;
  private final String[][] answers;
  private final Boolean[][] correct;
  private final List<List<Integer>> todo = List.of(new ArrayList<>(), new ArrayList<>());
  private final long removed;
  private int reusedArticles;
  private int rejudged;

  private Reuse(Map<String, List<Integer>> groups, ReuseKeys keys, int questions, long removed) {
    this.byArticle = new ArrayList<>(groups.values());
    this.articleIds = new ArrayList<>(groups.keySet());
    this.keys = keys;
    this.answers = new String[2][questions];
    this.correct = new Boolean[2][questions];
    this.removed = removed;
  }

  /** The stored articles of the committed evaluation; empty when there is none or no file. */
  static Map<String, Stored> read(RunDir run) {
    Optional<Manifest> m = run.manifest(Tables.EVALUATION);
    Path file = new Path(run.table(Tables.EVALUATION), FILE);
    if (m.isEmpty() || Manifest.FAILED.equals(m.get().status()) || !run.exists(file)) {
      return Map.of();
    }
    try {
      return Json.MAPPER.readValue(
          run.readString(file), new TypeReference<TreeMap<String, Stored>>() {});
    } catch (IOException e) {
      // A damaged file costs a recomputation, never a wrong answer.
      return Map.of();
    }
  }

  /** Decides, per article and model, what is reused; {@code questions} are grouped by article. */
  static Reuse plan(List<EvaluateJob.Question> questions, Map<String, Stored> stored, ReuseKeys k) {
    Map<String, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < questions.size(); i++) {
      groups.computeIfAbsent(questions.get(i).articleId(), a -> new ArrayList<>()).add(i);
    }
    Reuse r =
        new Reuse(
            groups,
            k,
            questions.size(),
            stored.keySet().stream().filter(a -> !groups.containsKey(a)).count());
    for (int a = 0; a < r.byArticle.size(); a++) {
      List<Integer> idx = r.byArticle.get(a);
      List<EvaluateJob.Question> article = idx.stream().map(questions::get).toList();
      Stored st = stored.get(r.articleIds.get(a));
      boolean both = true;
      for (int side = 0; side < 2; side++) {
        boolean reuse =
            st != null
                && k.answers(side, article).equals(st.answerKeys().get(side))
                && st.answers().get(side).size() == idx.size();
        boolean judged = reuse && k.verdict(article).equals(st.verdictKey());
        for (int q = 0; q < idx.size(); q++) {
          if (reuse) {
            r.answers[side][idx.get(q)] = st.answers().get(side).get(q);
            if (judged) {
              r.correct[side][idx.get(q)] = st.correct().get(side).get(q);
            }
          } else {
            r.todo.get(side).add(idx.get(q));
          }
        }
        both &= reuse;
      }
      r.reusedArticles += both ? 1 : 0;
    }
    return r;
  }

  /** Indices of the questions model {@code side} must still answer, in question order. */
  int[] todo(int side) {
    return todo.get(side).stream().mapToInt(Integer::intValue).toArray();
  }

  /** Answers by side and question; the reused ones filled in, the others for the caller to fill. */
  String[][] answers() {
    return answers;
  }

  int reusedArticles() {
    return reusedArticles;
  }

  long reusedAnswers() {
    long n = 0;
    for (String[] side : answers) {
      for (String a : side) {
        n += a == null ? 0 : 1;
      }
    }
    return n;
  }

  long removed() {
    return removed;
  }

  /** Answers re-judged although they were reused (the judge or the gold answers changed). */
  int rejudged() {
    return rejudged;
  }

  /** The verdicts of side {@code side}: stored ones kept, the others asked of {@code judge}. */
  List<Boolean> judge(int side, Judge judge, List<EvaluateJob.Question> questions) {
    List<Integer> ask = new ArrayList<>();
    List<Judge.Item> items = new ArrayList<>();
    for (int i = 0; i < questions.size(); i++) {
      if (correct[side][i] == null) {
        ask.add(i);
        if (!todo.get(side).contains(i)) {
          rejudged++;
        }
        EvaluateJob.Question q = questions.get(i);
        items.add(
            new Judge.Item(
                dev.editforge.text.AnswerPrompt.questionField(q.title(), q.question()),
                q.answers(),
                answers[side][i]));
      }
    }
    List<Boolean> verdicts = judge.correctAll(items);
    for (int i = 0; i < ask.size(); i++) {
      correct[side][ask.get(i)] = verdicts.get(i);
    }
    List<Boolean> out = new ArrayList<>(questions.size());
    for (Boolean b : correct[side]) {
      out.add(b);
    }
    return out;
  }

  /** Writes {@value #FILE} into the staged output: every article of this run with its keys. */
  void write(
      RunDir run,
      Path output,
      List<EvaluateJob.Question> questions,
      List<Boolean> baseCorrect,
      List<Boolean> tunedCorrect) {
    Map<String, Stored> out = new TreeMap<>();
    for (int a = 0; a < byArticle.size(); a++) {
      List<Integer> idx = byArticle.get(a);
      List<EvaluateJob.Question> article = idx.stream().map(questions::get).toList();
      List<List<String>> ans = new ArrayList<>();
      List<List<Boolean>> cor = new ArrayList<>();
      for (int side = 0; side < 2; side++) {
        List<Boolean> verdicts = side == 0 ? baseCorrect : tunedCorrect;
        int s = side;
        ans.add(idx.stream().map(i -> answers[s][i]).toList());
        cor.add(idx.stream().map(verdicts::get).toList());
      }
      out.put(
          articleIds.get(a),
          new Stored(
              List.of(keys.answers(0, article), keys.answers(1, article)),
              keys.verdict(article),
              ans,
              cor));
    }
    try {
      run.writeString(new Path(output, FILE), Json.MAPPER.writeValueAsString(out));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + FILE + " of " + output, e);
    }
  }
}
