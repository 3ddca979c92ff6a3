package dev.editforge.retrieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.cli.RetrievalBench;
import dev.editforge.encoders.OnnxMiniLmEncoder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench's logic on inputs small enough for a unit test; the real run is the CLI's. */
class RetrievalBenchTest {

  @Test
  void hnswRecallIsMeasuredAgainstExactSearchForBothVariants(@TempDir Path work) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    List<RetrievalBench.HnswResult> r =
        RetrievalBench.hnswRecall(
            work, 3000, 32, 100, 7, new PrintStream(buf, true, StandardCharsets.UTF_8));
    assertEquals(
        List.of("fp32", "int8"), r.stream().map(RetrievalBench.HnswResult::variant).toList());
    for (RetrievalBench.HnswResult h : r) {
      assertTrue(h.recallAt10() >= 0.95, h.toString());
      assertTrue(
          h.recallAt10() >= h.recallAt10AskingTen(),
          "asking for more candidates cannot lose recall");
      assertTrue(h.queriesPerSecond() > 0 && h.indexBytes() > h.searchedBytes());
    }
    assertTrue(
        r.get(1).searchedBytes() < r.get(0).searchedBytes(), "int8 graph search reads fewer bytes");
    assertTrue(buf.toString(StandardCharsets.UTF_8).contains("recall@10"));
  }

  @Test
  void squadBenchRunsEndToEndOnATinyCorpus(@TempDir Path work) throws Exception {
    Path json = work.resolve("tiny_squad.json");
    Files.writeString(
        json,
        """
        [
          {"title": "Volcano", "context": "Mount Etna is an active stratovolcano on the east coast of Sicily. Its eruptions produce lava flows.",
           "questions": [{"question": "Where is Mount Etna?", "answer": "Sicily"},
                         {"question": "What kind of volcano is Etna?", "answer": "stratovolcano"}]},
          {"title": "Violin", "context": "The violin is a wooden string instrument played with a bow, the smallest of its family.",
           "questions": [{"question": "What is a violin played with?", "answer": "a bow"}]},
          {"title": "Glacier", "context": "A glacier is a persistent body of dense ice that moves under its own weight.",
           "questions": [{"question": "What is a glacier made of?", "answer": "ice"}]},
          {"title": "Bread", "context": "Bread is baked from a dough of flour and water, usually leavened with yeast.",
           "questions": [{"question": "Which ingredient leavens bread?", "answer": "yeast"}]},
          {"title": "Tennis", "context": "Tennis is a racket sport played against one opponent or between two teams of two players.",
           "questions": [{"question": "What equipment is used to play tennis?", "answer": "racket"}]},
          {"title": "Bitcoin", "context": "Bitcoin is a decentralized digital currency whose transactions are recorded on a blockchain.",
           "questions": [{"question": "Where are bitcoin transactions recorded?", "answer": "blockchain"}]},
          {"title": "Desert", "context": "The Sahara is the largest hot desert in the world, covering much of North Africa.",
           "questions": [{"question": "Which is the largest hot desert?", "answer": "Sahara"}]},
          {"title": "Moon", "context": "The Moon is Earth's only natural satellite and orbits it every 27 days.",
           "questions": [{"question": "How long does the Moon take to orbit Earth?", "answer": "27 days"}]}
        ]
        """);
    try (OnnxMiniLmEncoder enc = OnnxMiniLmEncoder.load(128, 8, 4096, 1)) {
      RetrievalBench.SquadResult r =
          RetrievalBench.squad(json, work, enc, new PrintStream(new ByteArrayOutputStream()));
      assertEquals(8, r.passages());
      assertEquals(9, r.questions());
      assertEquals(
          List.of("bm25", "dense", "hybrid-rrf60", "hybrid-rrf10", "hybrid-linear0.5"),
          r.modes().stream().map(RetrievalBench.ModeResult::mode).toList());
      for (RetrievalBench.ModeResult m : r.modes()) {
        assertTrue(m.top1() >= 7.0 / 9 && m.top5() == 1.0, m.toString());
        assertTrue(m.top1() <= m.top5() && m.top5() <= m.top20());
      }
      double pps =
          RetrievalBench.bareEmbedPassagesPerSecond(
              enc, List.of("one passage", "another passage", "a third"));
      assertTrue(pps > 0);
    }
  }
}
