package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What changes which score key, and how a rerun's reuse is planned from earlier rows' keys. */
class ScoreKeysTest {
  static final Config TTT = ConfigFactory.parseString("seed = 1, epochs = 10, commit-every = 4");
  static final Config JUDGE = ConfigFactory.parseString("kind = contains");

  static ArticleWork article(String context, String question, String gold, String completion) {
    return new ArticleWork(
        "A1",
        "T",
        context,
        List.of(new ArticleWork.Question(question, List.of(gold))),
        List.of(new ArticleWork.Edit("e1", completion)));
  }

  static ScoreKeys keys(String ttt, String judge, String model) {
    return ScoreKeys.of(
        "v1",
        ConfigFactory.parseString(ttt).withFallback(TTT),
        ConfigFactory.parseString(judge).withFallback(JUDGE),
        model);
  }

  @Test
  void eachKeyChangesWithWhatItsResultDependsOn() {
    ScoreKeys k = keys("", "", "m");
    ArticleWork a = article("C", "Q?", "g", "edit");
    String edit = k.edit(a, a.edits().get(0));
    String base = k.baseline(a);
    String verdict = k.verdict(a);

    ArticleWork otherEdit = article("C", "Q?", "g", "another edit");
    assertNotEquals(edit, k.edit(otherEdit, otherEdit.edits().get(0)));
    assertEquals(base, k.baseline(otherEdit), "the baseline does not see the edit");
    ArticleWork otherContext = article("C2", "Q?", "g", "edit");
    assertNotEquals(edit, k.edit(otherContext, otherContext.edits().get(0)), "trained on it");
    assertEquals(base, k.baseline(otherContext), "answered without the passage");
    ArticleWork otherQuestion = article("C", "Q2?", "g", "edit");
    assertNotEquals(base, k.baseline(otherQuestion));
    ArticleWork otherGold = article("C", "Q?", "g2", "edit");
    assertEquals(edit, k.edit(otherGold, otherGold.edits().get(0)), "golds only grade");
    assertNotEquals(verdict, k.verdict(otherGold));

    ScoreKeys judge = keys("", "kind = token-recall", "m");
    assertEquals(edit, judge.edit(a, a.edits().get(0)));
    assertNotEquals(verdict, judge.verdict(a));
    ScoreKeys rejudge = keys("rejudge-baseline = true", "", "m");
    assertEquals(edit, rejudge.edit(a, a.edits().get(0)));
    assertNotEquals(verdict, rejudge.verdict(a));
    assertEquals(edit, keys("commit-every = 9", "", "m").edit(a, a.edits().get(0)));
    assertNotEquals(edit, keys("epochs = 3", "", "m").edit(a, a.edits().get(0)));
    assertNotEquals(edit, keys("", "", "m2").edit(a, a.edits().get(0)), "the model's files");
    assertNotEquals(
        edit, ScoreKeys.of("v2", TTT, JUDGE, "m").edit(a, a.edits().get(0)), "the code version");
  }

  static ScoreReuse.Prior prior(String edit, int repeat, String key, String verdict, String src) {
    return new ScoreReuse.Prior(
        edit, "A1", repeat, key, "b", verdict, src, repeat == 0 ? List.of("x") : null);
  }

  @Test
  void anEditIsReusedOnlyWithEveryRepeatUnderItsKeyPreferringRowsJudgedAsNow() {
    Map<String, ScoreReuse.Wanted> wanted =
        Map.of(
            "e1", new ScoreReuse.Wanted("A1", "k1", "v"),
            "e2", new ScoreReuse.Wanted("A1", "k2", "v"),
            "e3", new ScoreReuse.Wanted("A1", "k3", "v"));
    List<ScoreReuse.Prior> prior =
        List.of(
            prior("e1", 0, "k1", "old", ScoreReuse.SOURCE_TABLE),
            prior("e1", 1, "k1", "old", ScoreReuse.SOURCE_TABLE),
            prior("e1", 0, "k1", "v", "/work/part-a"),
            prior("e2", 0, "k2", "v", ScoreReuse.SOURCE_TABLE), // repeat 1 missing
            prior("e3", 0, "stale", "v", ScoreReuse.SOURCE_TABLE),
            prior("e3", 1, "stale", "v", ScoreReuse.SOURCE_TABLE),
            prior("gone", 0, "kg", "v", ScoreReuse.SOURCE_TABLE),
            prior("gone", 1, "kg", "v", ScoreReuse.SOURCE_TABLE));
    ScoreReuse.Plan p = ScoreReuse.plan(prior, wanted, 2, Map.of("A1", "b"));
    assertEquals(Set.of("e1"), p.reusedEdits());
    assertEquals(2, p.removed());
    assertEquals(
        List.of("/work/part-a", ScoreReuse.SOURCE_TABLE),
        p.chosen().stream().map(ScoreReuse.Prior::source).toList(),
        "repeat 0 from the part already judged as now, repeat 1 from the table");
    assertEquals(1, p.rejudged(wanted));
    assertEquals(Set.of("A1"), p.resumedArticles());
    assertEquals(Map.of("A1", List.of("x")), p.baselines());
    assertNull(ScoreReuse.plan(prior, wanted, 2, Map.of("A1", "other")).baselines().get("A1"));
  }
}
