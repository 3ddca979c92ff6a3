package dev.editforge.ttt;

import com.typesafe.config.Config;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Ids;
import java.util.ArrayList;
import java.util.List;

/**
 * The content keys that let a rerun of score reuse results instead of training again (issue 18).
 * Three keys, because three things can change independently:
 *
 * <ul>
 *   <li>{@link #edit}: what an edit's adapters and answers depend on — the edit (its id seeds the
 *       adapters, its completion is trained on), its article's title, passage and question texts,
 *       the {@code ttt} section without the keys that change only bookkeeping or grading, the base
 *       model's fingerprint and the code version. Equal key: the stored answers are what training
 *       again would give.
 *   <li>{@link #baseline}: what an article's baseline answers depend on (no edit, no passage: the
 *       base model answers without it), so a new or changed edit of an article whose questions did
 *       not change reuses the stored baseline answers.
 *   <li>{@link #verdict}: what grading the stored answers depends on — the judge section, {@code
 *       ttt.rejudge-baseline} and the gold answers. A different verdict key with an equal edit key
 *       re-judges the stored answers without training.
 * </ul>
 *
 * Immutable; keys are computed on the driver.
 */
record ScoreKeys(String codeVersion, String model, String ttt, String judge) {

  /** {@code ttt} keys that change neither adapters nor answers. */
  static final List<String> NOT_IN_EDIT_KEY =
      List.of("commit-every", "max-error-fraction", "rejudge-baseline");

  /**
   * @param tttSection {@code editforge.ttt}
   * @param judgeSection {@code editforge.judge}
   * @param modelFingerprint the base model's {@link Fingerprints#ofModel}
   */
  static ScoreKeys of(
      String codeVersion, Config tttSection, Config judgeSection, String modelFingerprint) {
    Config ttt = tttSection;
    for (String k : NOT_IN_EDIT_KEY) {
      ttt = ttt.withoutPath(k);
    }
    String rejudgeBaseline =
        tttSection.hasPath("rejudge-baseline")
            ? tttSection.getValue("rejudge-baseline").unwrapped().toString()
            : "";
    return new ScoreKeys(
        codeVersion,
        modelFingerprint,
        Fingerprints.configHash(ttt),
        Ids.of(Fingerprints.configHash(judgeSection), rejudgeBaseline));
  }

  String edit(ArticleWork article, ArticleWork.Edit edit) {
    List<String> f = new ArrayList<>();
    f.add("score-edit");
    f.add(codeVersion);
    f.add(model);
    f.add(ttt);
    f.add(edit.editId());
    f.add(edit.completion());
    f.add(article.title());
    f.add(article.context());
    for (ArticleWork.Question q : article.questions()) {
      f.add(q.question());
    }
    return Ids.of(f.toArray(new String[0]));
  }

  String baseline(ArticleWork article) {
    List<String> f = new ArrayList<>();
    f.add("score-baseline");
    f.add(codeVersion);
    f.add(model);
    f.add(ttt);
    f.add(article.title());
    for (ArticleWork.Question q : article.questions()) {
      f.add(q.question());
    }
    return Ids.of(f.toArray(new String[0]));
  }

  String verdict(ArticleWork article) {
    List<String> f = new ArrayList<>();
    f.add("score-verdict");
    f.add(judge);
    f.add(article.title());
    for (ArticleWork.Question q : article.questions()) {
      f.add(q.question());
      f.add(Integer.toString(q.answers().size()));
      f.addAll(q.answers());
    }
    return Ids.of(f.toArray(new String[0]));
  }
}
