package dev.editforge.evaluate;

import dev.editforge.io.Fingerprints;
import dev.editforge.io.Ids;
import dev.editforge.spark.StageContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The content keys of one evaluate run (issue 18). A model's answers to an article depend on the
 * article's title and question texts, that model's weights ({@link Fingerprints#ofModel}), the
 * answer settings ({@code evaluate} without the keys that only say where things are or how they
 * run) and the code version; the verdicts on the judge section and the gold answers.
 *
 * @param answers the key of each model's answers before the article's content: base, tuned
 */
record ReuseKeys(String[] answers, String judge) {

  static ReuseKeys of(StageContext ctx, String base, String tuned) {
    String settings =
        Fingerprints.configHash(
            ctx.settings()
                .section(EvaluateJob.STAGE)
                .withoutPath("model")
                .withoutPath("tuned")
                .withoutPath("articles")
                .withoutPath("max-articles")
                .withoutPath("gpus")
                .withoutPath("threads")
                .withoutPath("protocol")
                .withoutPath("policy"));
    String code = ctx.settings().codeVersion();
    return new ReuseKeys(
        new String[] {
          Ids.of("evaluate-answers", code, settings, Fingerprints.ofModel(base)),
          Ids.of("evaluate-answers", code, settings, Fingerprints.ofModel(tuned))
        },
        Fingerprints.configHash(ctx.settings().section("judge")));
  }

  /** The key of model {@code side}'s (0 base, 1 tuned) answers to one article's questions. */
  String answers(int side, List<EvaluateJob.Question> article) {
    List<String> f = new ArrayList<>();
    f.add(answers[side]);
    f.add(article.get(0).title());
    for (EvaluateJob.Question q : article) {
      f.add(q.question());
    }
    return Ids.of(f.toArray(new String[0]));
  }

  /** The key of the verdicts on one article's answers, given the answers' own keys. */
  String verdict(List<EvaluateJob.Question> article) {
    List<String> f = new ArrayList<>();
    f.add(judge);
    f.add(article.get(0).title());
    for (EvaluateJob.Question q : article) {
      f.add(q.question());
      f.add(Integer.toString(q.answers().size()));
      f.addAll(q.answers());
    }
    return Ids.of(f.toArray(new String[0]));
  }
}
