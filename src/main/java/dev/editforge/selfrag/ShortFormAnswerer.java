package dev.editforge.selfrag;

import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.LogprobGenerator;
import dev.editforge.llm.LogprobRequest;
import dev.editforge.llm.LogprobResult;
import dev.editforge.llm.SamplingParams;
import java.util.ArrayList;
import java.util.List;

/**
 * Self-RAG's short-form inference (run_short_form.py, spec.md section e), greedy:
 *
 * <ol>
 *   <li>adaptive mode: one generated step from the prompt decides retrieval ({@link
 *       AdaptiveRetrieval});
 *   <li>retrieving: one candidate per passage (prompt + {@code [Retrieval]<paragraph>title\ntext
 *       </paragraph>}), each scored by {@link CritiqueScore}; the best total wins, ties to the
 *       higher-ranked passage;
 *   <li>not retrieving: one answer from prompt + {@code [No Retrieval]}.
 * </ol>
 *
 * Each phase is one batched call over all questions given, so all passages of a question (and of
 * its batch mates) are scored together. Not thread-safe only as far as the generator is not; it
 * borrows the generator and closes nothing.
 */
public final class ShortFormAnswerer {
  private final LogprobGenerator generator;
  private final SelfRagOptions options;

  public ShortFormAnswerer(LogprobGenerator generator, SelfRagOptions options) {
    this.generator = generator;
    this.options = options;
  }

  /**
   * One passage's candidate: its raw text (reflection tokens as the backend kept them) and score.
   */
  public record Candidate(String passageId, String raw, CritiqueScore score) {}

  /**
   * One question's answer.
   *
   * @param retrieveRatio the adaptive ratio compared with the threshold, NaN outside adaptive mode
   * @param chosen index into {@code candidates} of the answer, -1 without retrieval
   * @param answer the post-processed answer (reflection tokens stripped)
   * @param error why the question could not be answered, null when it was
   */
  public record Answer(
      String questionId,
      RetrievalMode mode,
      boolean retrieved,
      double retrieveRatio,
      List<Candidate> candidates,
      int chosen,
      String answer,
      String error) {}

  public List<Answer> answer(List<SelfRagQuestion> questions, RetrievalMode mode) {
    int n = questions.size();
    boolean[] retrieve = new boolean[n];
    double[] ratio = new double[n];
    String[] error = new String[n];
    java.util.Arrays.fill(ratio, Double.NaN);
    LogprobRequest named = new LogprobRequest(options.topLogprobs(), ReflectionTokens.ALL);
    if (mode == RetrievalMode.ADAPTIVE) {
      List<GenerationRequest> first = new ArrayList<>(n);
      for (SelfRagQuestion q : questions) {
        first.add(
            GenerationRequest.text(
                q.id() + "#decide",
                SelfRagPrompt.prompt(q.instruction()),
                SamplingParams.greedy(1)));
      }
      List<LogprobResult> decided = generator.generateWithLogprobs(first, named);
      for (int i = 0; i < n; i++) {
        LogprobResult r = decided.get(i);
        if (!r.ok() || r.logprobs().size() == 0) {
          error[i] = r.ok() ? "the model generated nothing to decide from" : r.error();
          continue;
        }
        ratio[i] =
            AdaptiveRetrieval.ratio(
                r.logprobs().steps().get(0), options.has(Quirk.LOGPROB_THRESHOLD));
        retrieve[i] = ratio[i] > options.threshold();
      }
    } else {
      java.util.Arrays.fill(retrieve, mode == RetrievalMode.ALWAYS);
    }
    List<GenerationRequest> withEvidence = new ArrayList<>();
    List<int[]> owner = new ArrayList<>(); // {question, passage}
    SamplingParams greedy = SamplingParams.greedy(options.maxNewTokens());
    for (int i = 0; i < n; i++) {
      SelfRagQuestion q = questions.get(i);
      if (!retrieve[i] || error[i] != null) {
        continue;
      }
      String prompt = SelfRagPrompt.prompt(q.instruction());
      List<SelfRagQuestion.Passage> ps =
          q.passages().subList(0, Math.min(options.ndocs(), q.passages().size()));
      if (ps.isEmpty()) {
        retrieve[i] = false; // nothing was retrieved: answer without evidence
        continue;
      }
      for (int p = 0; p < ps.size(); p++) {
        withEvidence.add(
            GenerationRequest.text(
                q.id() + "#p" + p,
                SelfRagPrompt.withPassage(prompt, ps.get(p).title(), ps.get(p).text()),
                greedy));
        owner.add(new int[] {i, p});
      }
    }
    List<List<Candidate>> candidates = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      candidates.add(new ArrayList<>());
    }
    List<LogprobResult> scored =
        withEvidence.isEmpty() ? List.of() : generator.generateWithLogprobs(withEvidence, named);
    for (int k = 0; k < scored.size(); k++) {
      int q = owner.get(k)[0];
      int p = owner.get(k)[1];
      LogprobResult r = scored.get(k);
      if (!r.ok()) {
        error[q] = r.error();
        continue;
      }
      candidates
          .get(q)
          .add(
              new Candidate(
                  questions.get(q).passages().get(p).id(),
                  r.text(),
                  CritiqueScore.of(r.logprobs(), options.weights())));
    }
    List<GenerationRequest> plain = new ArrayList<>();
    List<Integer> plainOwner = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (!retrieve[i] && error[i] == null) {
        plain.add(
            GenerationRequest.text(
                questions.get(i).id() + "#none",
                SelfRagPrompt.noRetrieval(SelfRagPrompt.prompt(questions.get(i).instruction())),
                greedy));
        plainOwner.add(i);
      }
    }
    String[] plainText = new String[n];
    List<LogprobResult> plainOut =
        plain.isEmpty()
            ? List.of()
            : generator.generateWithLogprobs(plain, new LogprobRequest(0, List.of()));
    for (int k = 0; k < plainOut.size(); k++) {
      LogprobResult r = plainOut.get(k);
      int i = plainOwner.get(k);
      if (r.ok()) {
        plainText[i] = r.text();
      } else {
        error[i] = r.error();
      }
    }
    List<Answer> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      SelfRagQuestion q = questions.get(i);
      if (error[i] != null) {
        out.add(new Answer(q.id(), mode, retrieve[i], ratio[i], List.of(), -1, "", error[i]));
      } else if (retrieve[i]) {
        int best = best(candidates.get(i));
        out.add(
            new Answer(
                q.id(),
                mode,
                true,
                ratio[i],
                candidates.get(i),
                best,
                SelfRagPrompt.postprocess(candidates.get(i).get(best).raw()),
                null));
      } else {
        out.add(
            new Answer(
                q.id(),
                mode,
                false,
                ratio[i],
                List.of(),
                -1,
                SelfRagPrompt.postprocess(plainText[i]),
                null));
      }
    }
    return out;
  }

  /** The highest total; the first (best-ranked passage) among equals. */
  static int best(List<Candidate> candidates) {
    int best = 0;
    for (int i = 1; i < candidates.size(); i++) {
      if (candidates.get(i).score().total() > candidates.get(best).score().total()) {
        best = i;
      }
    }
    return best;
  }
}
