package dev.editforge.selfrag;

import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.LogprobGenerator;
import dev.editforge.llm.LogprobRequest;
import dev.editforge.llm.LogprobResult;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.TokenLogprobs;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Self-RAG's long-form segment-level beam search (run_long_form_static.py, spec.md section f),
 * greedy, over a question's first {@code ndocs} passages (the same passages at every segment, as
 * the "static" script does):
 *
 * <ol>
 *   <li>decide whether to retrieve at all (adaptive: {@link AdaptiveRetrieval} on the first step;
 *       no retrieval: one answer after {@code [No Retrieval]}, cut at the first blank line);
 *   <li>from the root, each node that wants more evidence is expanded with every passage: prompt +
 *       the path's text so far + {@code [Retrieval]<paragraph>..</paragraph>}; a child's score is
 *       its step {@link CritiqueScore} (long-form weights 1 / 1 / 0.5, no sequence score) times its
 *       parent's; each level keeps the {@code beamWidth} best; at most {@code maxDepth - 1} levels;
 *   <li>a child's segment is its text up to its first retrieval token; it wants more evidence when
 *       that token is {@code [Retrieval]}, or {@code [No Retrieval]} while (P(Ret) + P(Cont)) /
 *       (P(Ret) + P(NoRet)) exceeds the threshold;
 *   <li>the answer is the best node of the deepest level and its ancestors: one segment per level,
 *       each with the passage it was generated from.
 * </ol>
 *
 * The as-written behaviours (sibling text in prompts, a text-only continuation test that stops at
 * depth 1, utility always 0, raw -100 relevance) are {@link Quirk}s. Borrows the generator.
 */
public final class LongFormSearch {
  private final LogprobGenerator generator;
  private final SelfRagOptions options;

  public LongFormSearch(LogprobGenerator generator, SelfRagOptions options) {
    this.generator = generator;
    this.options = options;
  }

  /** One segment of a long answer and the passage behind it (null passage: no evidence). */
  public record Segment(String text, String passageId, double score) {}

  /**
   * A long-form answer.
   *
   * @param answer the segments' texts joined by single spaces
   * @param depth levels the search went down (0 without retrieval)
   */
  public record LongAnswer(
      String questionId,
      RetrievalMode mode,
      boolean retrieved,
      String answer,
      List<Segment> segments,
      double score,
      int depth,
      String error) {}

  /** A node of the search tree: its segment, the path's text so far, score and parent. */
  private record Node(
      Segment segment, String context, double score, boolean wantsMore, Node parent) {}

  public LongAnswer answer(SelfRagQuestion q, RetrievalMode mode) {
    String prompt = SelfRagPrompt.prompt(q.instruction());
    LogprobRequest named = new LogprobRequest(options.topLogprobs(), ReflectionTokens.ALL);
    boolean retrieve = mode == RetrievalMode.ALWAYS;
    if (mode == RetrievalMode.ADAPTIVE) {
      LogprobResult d =
          generator
              .generateWithLogprobs(
                  List.of(GenerationRequest.text(q.id() + "#decide", prompt, greedy(1))), named)
              .get(0);
      if (!d.ok()) {
        return failed(q, mode, d.error());
      }
      retrieve =
          d.logprobs().size() > 0
              && AdaptiveRetrieval.retrieve(
                  d.logprobs().steps().get(0),
                  options.threshold(),
                  options.has(Quirk.LOGPROB_THRESHOLD));
    }
    List<SelfRagQuestion.Passage> passages =
        q.passages().subList(0, Math.min(options.ndocs(), q.passages().size()));
    if (!retrieve || passages.isEmpty()) {
      LogprobResult r =
          generator
              .generateWithLogprobs(
                  List.of(
                      GenerationRequest.text(
                          q.id() + "#none",
                          SelfRagPrompt.noRetrieval(prompt),
                          greedy(options.segmentTokens()))),
                  new LogprobRequest(0, List.of()))
              .get(0);
      if (!r.ok()) {
        return failed(q, mode, r.error());
      }
      String text = SelfRagPrompt.postprocess(r.text().split("\n\n", -1)[0]);
      return new LongAnswer(
          q.id(), mode, false, text, List.of(new Segment(text, null, 0.0)), 0.0, 0, null);
    }
    List<Node> level = List.of(new Node(null, "", 1.0, true, null));
    List<Node> deepest = level;
    int depth = 0;
    for (int d = 1; d < options.maxDepth(); d++) {
      List<Node> open = level.stream().filter(Node::wantsMore).toList();
      if (open.isEmpty()) {
        break;
      }
      List<GenerationRequest> requests = new ArrayList<>();
      for (int n = 0; n < open.size(); n++) {
        for (int p = 0; p < passages.size(); p++) {
          SelfRagQuestion.Passage ps = passages.get(p);
          requests.add(
              GenerationRequest.text(
                  q.id() + "#d" + d + "n" + n + "p" + p,
                  SelfRagPrompt.withPassage(prompt + open.get(n).context(), ps.title(), ps.text()),
                  greedy(options.segmentTokens())));
        }
      }
      List<LogprobResult> results = generator.generateWithLogprobs(requests, named);
      List<Node> children = new ArrayList<>();
      for (int n = 0; n < open.size(); n++) {
        Node parent = open.get(n);
        String previousText = null;
        for (int p = 0; p < passages.size(); p++) {
          LogprobResult r = results.get(n * passages.size() + p);
          if (!r.ok()) {
            return failed(q, mode, r.error());
          }
          String own = segmentText(r);
          double step =
              CritiqueScore.of(r.logprobs(), CritiqueWeights.longFormDefaults(), options.quirks())
                  .total();
          double score = parent.segment() == null ? step : step * parent.score();
          // As written, child i >= 1 carries its previous sibling's text in its prompt.
          String carried =
              options.has(Quirk.SIBLING_PROMPT) && previousText != null ? previousText : own;
          String context = parent.context() + (parent.context().isEmpty() ? "" : " ") + carried;
          children.add(
              new Node(
                  new Segment(own, passages.get(p).id(), score),
                  context,
                  score,
                  wantsMore(r),
                  parent));
          previousText = own;
        }
      }
      children.sort(Comparator.comparingDouble((Node c) -> -c.score()));
      level = children.subList(0, Math.min(options.beamWidth(), children.size()));
      deepest = level;
      depth = d;
    }
    Node best = deepest.get(0);
    List<Segment> segments = new ArrayList<>();
    for (Node x = best; x != null && x.segment() != null; x = x.parent()) {
      segments.add(0, x.segment());
    }
    List<String> texts = new ArrayList<>();
    for (Segment s : segments) {
      if (!s.text().isEmpty()) {
        texts.add(s.text());
      }
    }
    return new LongAnswer(
        q.id(), mode, true, String.join(" ", texts), segments, best.score(), depth, null);
  }

  private static LongAnswer failed(SelfRagQuestion q, RetrievalMode mode, String error) {
    return new LongAnswer(q.id(), mode, false, "", List.of(), 0.0, 0, error);
  }

  private static SamplingParams greedy(int tokens) {
    return SamplingParams.greedy(tokens);
  }

  /**
   * The segment a candidate contributes: its tokens up to the first retrieval-group token, without
   * reflection tokens. As written ({@link Quirk#TEXT_CONTINUATION}) the decoded text up to a
   * literal "[Retrieval]".
   */
  String segmentText(LogprobResult r) {
    if (options.has(Quirk.TEXT_CONTINUATION)) {
      return SelfRagPrompt.postprocess(
          r.text().split(java.util.regex.Pattern.quote("[Retrieval]"), -1)[0]);
    }
    TokenLogprobs lp = r.logprobs();
    int at = CritiqueScore.firstGenerated(lp, ReflectionTokens.RETRIEVAL_GROUP);
    if (at < 0) {
      return SelfRagPrompt.postprocess(r.text());
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < at; i++) {
      String t = lp.steps().get(i).token();
      if (!ReflectionTokens.ALL.contains(t)) {
        sb.append(t);
      }
    }
    return SelfRagPrompt.postprocess(sb.toString());
  }

  /** Whether the candidate asks for more evidence after its segment. */
  boolean wantsMore(LogprobResult r) {
    if (options.has(Quirk.TEXT_CONTINUATION)) {
      return r.text().contains(ReflectionTokens.RETRIEVAL);
    }
    TokenLogprobs lp = r.logprobs();
    int at = CritiqueScore.firstGenerated(lp, ReflectionTokens.RETRIEVAL_GROUP);
    if (at < 0) {
      return false;
    }
    TokenLogprobs.Step s = lp.steps().get(at);
    return s.token().equals(ReflectionTokens.RETRIEVAL)
        || (s.token().equals(ReflectionTokens.NO_RETRIEVAL)
            && AdaptiveRetrieval.continueAnyway(s, options.threshold()));
  }
}
